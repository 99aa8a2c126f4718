-- What each dossier and petition contributes to the QĐ 766 indicators of its reception month,
-- with the reason it falls short: the records behind every fct_kpi_value row of the one-stop
-- indicators (766-3.3 excepted: 766-3.3r × 766-1.4). Read by `ioc kpi explain` and the
-- reconciliation with the national portal.
select
    kpi_id || '|' || record_type || '|' || record_id as kpi_contribution_id,
    kpi_id,
    period,
    commune_code,
    legacy_district_code,
    record_type,
    record_id,
    procedure_code,
    numerator,
    denominator,
    reason_code,
    reason
from {{ ref('int_kpi__public_services__contributions') }}
