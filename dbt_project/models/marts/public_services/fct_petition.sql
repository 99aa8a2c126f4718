-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Citizen petitions (phản ánh, kiến nghị), one row per petition, with the QĐ 766-5.2 on-time
-- test: handled within its limit (15 working days; refusal 2; supplement request 5) counted in
-- working days (Mon–Fri) after the reception day; a petition not yet handled is not on time.
with petitions as (
    select * from {{ ref('int_public_services__petitions') }}
),

timed as (
    select
        petitions.*,
        cast(petitions.received_at as date) as received_on,
        cast(petitions.handled_at as date) as handled_on,
        case petitions.outcome_code
            when 1 then 15
            when 2 then 2
            when 3 then 5
        end as limit_working_days
    from petitions
),

counted as (
    select
        timed.*,
        case
            when timed.handled_on is not null
                then greatest(
                    0,
                    {{ working_day_index('timed.handled_on') }}
                    - {{ working_day_index('timed.received_on') }}
                )
        end as working_days_to_handle
    from timed
)

select
    petition_code,
    dossier_code,
    received_at,
    received_on,
    {{ month_key("received_on") }} as reception_period,
    outcome_code,
    outcome_name,
    handled_at,
    handled_on,
    limit_working_days,
    cast(working_days_to_handle as integer) as working_days_to_handle,
    is_satisfied,
    is_repeated,
    commune_code,
    legacy_district_code,
    commune_code_sent,
    coalesce(working_days_to_handle <= limit_working_days, false) as is_on_time
from counted
