-- sqlfluff:templater:jinja:load_macros_from_path:macros
{{ config(tags=['kpi_input']) }}
-- QĐ 766 catalogue-level and per-procedure indicators, province 82 only (the catalogue is the
-- province's; it has no commune dimension), one row per month of the one-stop data, computed at
-- the month's cut (its last day, or the end of the data for the last month). Working days are
-- Monday–Friday (simulator/public_services/kpi.py is the exact specification):
-- 766-1.1 publications decided ≥5 working days before the legal text took effect / decided in the
-- month (by the cut); 766-1.2 made public ≤5 working days after the decision / publications whose
-- 5-working-day deadline falls in the month (by the cut); 766-1.3 procedures whose latest
-- publication made public by the cut lists every content element / procedures public at the cut;
-- 766-3.1 online services (MucDo 3, 4) / catalogue; 766-3.2 online services with ≥1 online
-- dossier received in the month / online services; 766-3.5 fee-bearing procedures with ≥1 dossier
-- of the month with a non-zero fee row, paid online and synced / fee-bearing procedures; 766-4.5a
-- citizen procedures with ≥1 VNeID dossier of the month / citizen procedures. Only counted
-- dossiers (received, first copy, not quarantined) mark a procedure. 1.1–1.3 get a row only when
-- the month has a denominator.
with months as (
    select * from {{ ref('int_public_services__months') }}
),

procedures as (
    select * from {{ ref('dim_procedure') }}
),

dossiers as (
    select * from {{ ref('fct_dossier') }}
    where is_counted
),

publications as (
    select
        decisions.publication_code,
        decisions.procedure_code,
        decisions.decided_on,
        decisions.effective_on,
        made_public.made_public_on,
        made_public.is_content_complete,
        {{ working_day_index('decisions.decided_on') }} as decided_index,
        {{ working_day_index('decisions.effective_on') }} as effective_index,
        {{ working_day_index('made_public.made_public_on') }} as made_public_index
    from {{ ref('int_public_services__publication_decisions') }} as decisions
    left join {{ ref('int_public_services__publications_public') }} as made_public
        on decisions.publication_code = made_public.publication_code
),

publication_deadlines as (
    select
        publications.*,
        cast(
            date '2000-01-03'
            + cast(7 * floor((publications.decided_index + 5) / 5) as integer)
            + cast((publications.decided_index + 5) % 5 as integer)
            as date
        ) as public_due_on
    from publications
),

published_on_time as (
    select
        '766-1.1' as kpi_id,
        months.period,
        count(*) filter (
            where publication_deadlines.effective_index - publication_deadlines.decided_index >= 5
        ) as numerator,
        count(*) as denominator
    from months
    inner join publication_deadlines
        on
            {{ month_key("publication_deadlines.decided_on") }} = months.period
            and months.cut_on >= publication_deadlines.decided_on
    group by months.period
),

public_on_time as (
    select
        '766-1.2' as kpi_id,
        months.period,
        count(*) filter (
            where
            publication_deadlines.made_public_on is not null
            and greatest(
                0,
                publication_deadlines.made_public_index - publication_deadlines.decided_index
            ) <= 5
        ) as numerator,
        count(*) as denominator
    from months
    inner join publication_deadlines
        on
            {{ month_key("publication_deadlines.public_due_on") }} = months.period
            and months.cut_on >= publication_deadlines.public_due_on
    group by months.period
),

latest_public as (
    select
        months.period,
        publications.procedure_code,
        publications.is_content_complete,
        row_number() over (
            partition by months.period, publications.procedure_code
            order by publications.decided_on desc
        ) as recency
    from months
    inner join publications
        on months.cut_on >= publications.made_public_on
),

complete_content as (
    select
        '766-1.3' as kpi_id,
        period,
        count(*) filter (where is_content_complete) as numerator,
        count(*) as denominator
    from latest_public
    where recency = 1
    group by period
),

online_offered as (
    select
        '766-3.1' as kpi_id,
        months.period,
        (
            select count(*) from procedures
            where procedures.is_online_service
        ) as numerator,
        (select count(*) from procedures) as denominator
    from months
),

marks as (
    select distinct
        '766-3.2' as kpi_id,
        reception_period as period,
        procedure_code
    from dossiers
    where channel_code = 2
    union
    select distinct
        '766-3.5' as kpi_id,
        reception_period as period,
        procedure_code
    from dossiers
    where has_nonzero_fee and is_paid_online and is_synced
    union
    select distinct
        '766-4.5a' as kpi_id,
        reception_period as period,
        procedure_code
    from dossiers
    where is_vneid_account and is_citizen_procedure
),

procedure_sets as (
    select
        '766-3.2' as kpi_id,
        procedure_code
    from procedures
    where is_online_service
    union all
    select
        '766-3.5' as kpi_id,
        procedure_code
    from procedures
    where is_fee_bearing
    union all
    select
        '766-4.5a' as kpi_id,
        procedure_code
    from procedures
    where applicant_type_code = 1
),

per_procedure as (
    select
        procedure_sets.kpi_id,
        months.period,
        count(marks.procedure_code) as numerator,
        count(*) as denominator
    from months
    cross join procedure_sets
    left join marks
        on
            procedure_sets.kpi_id = marks.kpi_id
            and procedure_sets.procedure_code = marks.procedure_code
            and months.period = marks.period
    group by procedure_sets.kpi_id, months.period
),

indicators as (
    select * from published_on_time
    union all
    select * from public_on_time
    union all
    select * from complete_content
    union all
    select * from online_offered
    union all
    select * from per_procedure
)

select
    cast(kpi_id as varchar) as kpi_id,
    cast(period as varchar) as period,
    cast('province' as varchar) as admin_level,
    cast('82' as varchar) as admin_code,
    cast('2025' as varchar) as structure,
    cast(numerator as double precision) as numerator,
    cast(denominator as double precision) as denominator,
    cast(numerator as double precision)
    / nullif(cast(denominator as double precision), 0) as value  -- noqa: RF04
from indicators
