-- Dòng thuốc — one row per XML2 drug line item of each episode's latest version.
select
    drug_line.facility_code || ':' || drug_line.episode_id || ':'
    || cast(drug_line.line_no as varchar) as drug_line_key,
    drug_line.facility_code || ':' || drug_line.episode_id as episode_key,
    drug_line.facility_code,
    drug_line.episode_id,
    drug_line.line_no,
    drug_line.drug_code,
    drug_line.drug_name,
    drug_line.quantity,
    drug_line.unit_price_vnd,
    drug_line.amount_vnd,
    drug_line.insurance_paid_vnd,
    drug_line.ordered_at
from {{ ref('int_health_drug_lines_latest') }} as drug_line
