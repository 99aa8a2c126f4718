-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Đối chiếu với Cổng DVC quốc gia: for each QĐ 766 indicator the national portal's feed
-- (portal766) publishes, month and unit (2025 commune, province 82), the hub's value from the
-- source records (fct_kpi_value), the portal's, the gap, and the explanation:
-- - agrees: the gap is within the portal's precision (ratios from counts: exact;
--   avgProcessingDays: rounded to 0.01 day);
-- - late_sync / not_received / late_sync_and_not_received: the hub's own records, taken as the
--   portal holds them (only dossiers synced to it, filed by the month they reached it), give
--   the portal's value; the counts say how many dossiers of the hub's cell never reached the
--   portal and how many were filed in another month;
-- - reading_difference: the portal's value is the hub's alternative reading of the rule set
--   (kpi_rule_clauses.alternative_kpi_id, e.g. 766-2.2n for 766-2.2) on those records;
-- - unexplained: none of these; an alert when the gap exceeds the catalogue's
--   reconciliation_threshold.
{#- The latest run's row of each feed per month and unit (a month re-read lands again). -#}
{%- set feeds = ['dvc_progress', 'provide_online', 'online_payment', 'dossier_digitized'] %}
with
{%- for feed in feeds %}
    {{ feed }}_runs as (
        select
            period,
            unit_code,
            max(run_id) as run_id
        from {{ ref('stg_portal766__' ~ feed) }}
        group by period, unit_code
    ),

    {{ feed }} as (
        select feed_rows.*
        from {{ ref('stg_portal766__' ~ feed) }} as feed_rows
        inner join {{ feed }}_runs as latest
            on
                feed_rows.period = latest.period
                and feed_rows.unit_code = latest.unit_code
                and feed_rows.run_id = latest.run_id
    ),
{% endfor %}
portal_counts as (
    select
        '766-1.4' as kpi_id,
        period,
        unit_code,
        cast(synced_count as double precision) as numerator,
        cast(greatest(coalesce(reported_received_count, 0), received_count) as double precision)
            as denominator,
        1e-9 as tolerance
    from dvc_progress
    union all
    select
        '766-2.1' as kpi_id,
        period,
        unit_code,
        on_time_count,
        received_count,
        1e-9 as tolerance
    from dvc_progress
    union all
    -- The feed gives the mean rounded to 0.01 day, not the sum.
    select
        '766-2.2' as kpi_id,
        period,
        unit_code,
        avg_processing_days * completed_count as numerator,
        completed_count as denominator,
        0.005 + 1e-9 as tolerance
    from dvc_progress
    union all
    select
        '766-3.3r' as kpi_id,
        period,
        unit_code,
        channel_online_count,
        received_count,
        1e-9 as tolerance
    from provide_online
    union all
    select
        '766-3.6' as kpi_id,
        period,
        unit_code,
        paid_online_count,
        received_count,
        1e-9 as tolerance
    from online_payment
    union all
    select
        '766-4.2' as kpi_id,
        period,
        unit_code,
        digitised_count,
        received_count,
        1e-9 as tolerance
    from dossier_digitized
    union all
    select
        '766-4.3' as kpi_id,
        period,
        unit_code,
        reused_count,
        received_count,
        1e-9 as tolerance
    from dossier_digitized
),

portal as (
    select
        kpi_id,
        period,
        case when unit_code = '82' then 'province' else 'commune' end as admin_level,
        unit_code as admin_code,
        tolerance,
        numerator as portal_numerator,
        denominator as portal_denominator,
        cast(numerator as double precision) / nullif(denominator, 0) as portal_value
    from portal_counts
),

reconciled_kpis as (
    select distinct kpi_id from portal
),

alternatives as (
    select distinct
        kpi_id,
        alternative_kpi_id
    from {{ ref('kpi_rule_clauses') }}
    where alternative_kpi_id is not null
),

hub as (
    select
        kpi_values.kpi_id,
        kpi_values.period,
        kpi_values.admin_level,
        kpi_values.admin_code,
        kpi_values.numerator as hub_numerator,
        kpi_values.denominator as hub_denominator,
        kpi_values.value as hub_value
    from {{ ref('fct_kpi_value') }} as kpi_values
    inner join reconciled_kpis
        on kpi_values.kpi_id = reconciled_kpis.kpi_id
    where
        kpi_values.period_type = 'month'
        and kpi_values.admin_level in ('commune', 'province')
),

dossiers as (
    select
        dossier_code,
        reception_period,
        commune_code,
        is_synced,
        synced_on,
        case when synced_on is not null then {{ month_key('synced_on') }} end as portal_period
    from {{ ref('fct_dossier') }}
    where is_counted
),

-- The hub's own records as the portal holds them: synced dossiers, in their sync month.
as_portal_records as (
    select
        contributions.kpi_id,
        dossiers.portal_period as period,
        dossiers.commune_code,
        contributions.numerator,
        contributions.denominator
    from {{ ref('fct_kpi_contribution') }} as contributions
    inner join dossiers
        on
            contributions.record_type = 'dossier'
            and contributions.record_id = dossiers.dossier_code
    where dossiers.portal_period is not null
),

as_portal_levels as (
    select
        kpi_id,
        period,
        'commune' as admin_level,
        commune_code as admin_code,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from as_portal_records
    where commune_code is not null
    group by kpi_id, period, commune_code
    union all
    select
        kpi_id,
        period,
        'province' as admin_level,
        '82' as admin_code,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from as_portal_records
    group by kpi_id, period
),

synced_by_sync_month as (
    select * from as_portal_levels
    where kpi_id = '766-1.4'
),

received_by_reception_month as (
    select * from hub
    where kpi_id = '766-1.4'
),

-- 766-1.4 as the portal computes it: synced (by sync month) / the larger of the reporting
-- system's count (every dossier, by reception month: the hub's denominator) and its own.
as_portal as (
    select
        kpi_id,
        period,
        admin_level,
        admin_code,
        numerator,
        denominator
    from as_portal_levels
    where kpi_id != '766-1.4'
    union all
    select
        '766-1.4' as kpi_id,
        coalesce(synced.period, received.period) as period,
        coalesce(synced.admin_level, received.admin_level) as admin_level,
        coalesce(synced.admin_code, received.admin_code) as admin_code,
        coalesce(synced.denominator, 0) as numerator,
        greatest(coalesce(received.hub_denominator, 0), coalesce(synced.denominator, 0))
            as denominator
    from synced_by_sync_month as synced
    full outer join received_by_reception_month as received
        on
            synced.period = received.period
            and synced.admin_level = received.admin_level
            and synced.admin_code = received.admin_code
),

cell_counts as (
    select
        reception_period as period,
        commune_code,
        count(*) filter (where not is_synced) as not_received_count,
        count(*) filter (where is_synced and portal_period != reception_period)
            as filed_later_count
    from dossiers
    group by reception_period, commune_code
),

arrived_counts as (
    select
        portal_period as period,
        commune_code,
        count(*) filter (where portal_period != reception_period) as filed_from_earlier_count
    from dossiers
    where portal_period is not null
    group by portal_period, commune_code
),

counts_by_unit as (
    select
        coalesce(cell_counts.period, arrived_counts.period) as period,
        coalesce(cell_counts.commune_code, arrived_counts.commune_code) as commune_code,
        coalesce(cell_counts.not_received_count, 0) as not_received_count,
        coalesce(cell_counts.filed_later_count, 0)
        + coalesce(arrived_counts.filed_from_earlier_count, 0) as other_month_count
    from cell_counts
    full outer join arrived_counts
        on
            cell_counts.period = arrived_counts.period
            and cell_counts.commune_code = arrived_counts.commune_code
),

counts as (
    select
        period,
        'commune' as admin_level,
        commune_code as admin_code,
        not_received_count,
        other_month_count
    from counts_by_unit
    where commune_code is not null
    union all
    select
        period,
        'province' as admin_level,
        '82' as admin_code,
        sum(not_received_count) as not_received_count,
        sum(other_month_count) as other_month_count
    from counts_by_unit
    group by period
),

cells as (
    select
        portal.kpi_id,
        portal.period,
        portal.admin_level,
        portal.admin_code,
        portal.tolerance,
        portal.portal_numerator,
        portal.portal_denominator,
        portal.portal_value,
        hub.hub_numerator,
        hub.hub_denominator,
        hub.hub_value,
        as_portal.numerator / nullif(as_portal.denominator, 0) as as_portal_value,
        alternative.numerator / nullif(alternative.denominator, 0) as alternative_value,
        alternatives.alternative_kpi_id,
        coalesce(counts.not_received_count, 0) as not_received_count,
        coalesce(counts.other_month_count, 0) as other_month_count
    from portal
    left join hub
        on
            portal.kpi_id = hub.kpi_id
            and portal.period = hub.period
            and portal.admin_level = hub.admin_level
            and portal.admin_code = hub.admin_code
    left join as_portal
        on
            portal.kpi_id = as_portal.kpi_id
            and portal.period = as_portal.period
            and portal.admin_level = as_portal.admin_level
            and portal.admin_code = as_portal.admin_code
    left join alternatives
        on portal.kpi_id = alternatives.kpi_id
    left join as_portal as alternative
        on
            alternatives.alternative_kpi_id = alternative.kpi_id
            and portal.period = alternative.period
            and portal.admin_level = alternative.admin_level
            and portal.admin_code = alternative.admin_code
    left join counts
        on
            portal.period = counts.period
            and portal.admin_level = counts.admin_level
            and portal.admin_code = counts.admin_code
    -- Months the portal answers with zero counters and the hub has no record for.
    where portal.portal_denominator > 0 or hub.hub_denominator > 0
),

matched as (
    select
        *,
        coalesce(
            abs(portal_value - hub_value) <= tolerance,
            portal_value is null and hub_value is null
        ) as hub_matches,
        coalesce(
            abs(portal_value - as_portal_value) <= tolerance,
            portal_value is null and as_portal_value is null
        ) as as_portal_matches,
        coalesce(abs(portal_value - alternative_value) <= tolerance, false)
            as alternative_matches
    from cells
),

explained as (
    select
        *,
        case
            when hub_matches then 'agrees'
            when
                as_portal_matches
                and not_received_count > 0
                and other_month_count > 0
                then 'late_sync_and_not_received'
            when as_portal_matches and not_received_count > 0 then 'not_received'
            when as_portal_matches and other_month_count > 0 then 'late_sync'
            when alternative_matches then 'reading_difference'
            else 'unexplained'
        end as explanation_code
    from matched
),

catalogue as (
    select
        kpi_id,
        name_vi,
        name_en,
        unit,
        reconciliation_threshold
    from {{ ref('kpi_catalogue') }}
)

select
    explained.kpi_id || '|' || explained.period || '|' || explained.admin_level || '|'
    || explained.admin_code as kpi_reconciliation_id,
    explained.kpi_id,
    catalogue.name_vi,
    catalogue.name_en,
    catalogue.unit,
    explained.period,
    explained.admin_level,
    explained.admin_code,
    explained.hub_numerator,
    explained.hub_denominator,
    explained.hub_value,
    explained.portal_numerator,
    explained.portal_denominator,
    explained.portal_value,
    explained.portal_value - explained.hub_value as gap,
    explained.as_portal_value,
    explained.alternative_kpi_id,
    explained.alternative_value,
    explained.not_received_count,
    explained.other_month_count,
    explained.explanation_code,
    case explained.explanation_code
        when 'agrees' then 'Khớp — the portal publishes the hub''s value'
        when 'late_sync_and_not_received'
            then
                'Đồng bộ trễ và hồ sơ chưa đồng bộ — '
                || cast(explained.not_received_count as varchar)
                || ' dossier(s) never reached the portal, '
                || cast(explained.other_month_count as varchar)
                || ' reached it in another month'
        when 'not_received'
            then
                'Hồ sơ chưa đồng bộ — '
                || cast(explained.not_received_count as varchar)
                || ' dossier(s) never reached the portal'
        when 'late_sync'
            then
                'Đồng bộ trễ — ' || cast(explained.other_month_count as varchar)
                || ' dossier(s) reached the portal in another month than their reception'
        when 'reading_difference'
            then
                'Khác cách hiểu — the portal''s value is the alternative reading '
                || explained.alternative_kpi_id || ' of the rule set'
        else 'Chưa giải thích được — no known cause'
    end as explanation,
    catalogue.reconciliation_threshold,
    coalesce(
        explained.explanation_code = 'unexplained'
        and abs(coalesce(explained.portal_value, 0) - coalesce(explained.hub_value, 0))
        > catalogue.reconciliation_threshold,
        false
    ) as is_alert
from explained
left join catalogue
    on explained.kpi_id = catalogue.kpi_id
