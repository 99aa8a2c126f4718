-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Độ phủ hồ sơ sức khỏe điện tử — a monthly snapshot per old commune (the registry's residence
-- unit) with its current commune: residents (registry population), residents with an EHR
-- created by the month's last day, and among them those with an electronic medical book and
-- those using remote booking (flags are a snapshot: a record counts from its creation month).
with population as (
    select distinct on (legacy_commune_code) *
    from {{ ref('stg_ehr_registry__commune_population') }}
    order by legacy_commune_code asc, run_id desc
),

created as (
    select
        residence_old_commune_code as legacy_commune_code,
        created_on,
        count(*) as ehr_persons,
        sum(cast(has_e_medical_book as integer)) as e_medical_book_persons,
        sum(cast(uses_remote_booking as integer)) as remote_booking_persons
    from {{ ref('int_health__ehr_persons_latest') }}
    group by residence_old_commune_code, created_on
),

months as (
    select * from {{ ref('int_health__months') }}
),

snapshot as (
    select
        months.period,
        population.legacy_commune_code,
        coalesce(sum(created.ehr_persons), 0) as ehr_persons,
        coalesce(sum(created.e_medical_book_persons), 0) as e_medical_book_persons,
        coalesce(sum(created.remote_booking_persons), 0) as remote_booking_persons
    from months
    cross join population
    left join created
        on
            population.legacy_commune_code = created.legacy_commune_code
            and months.month_end >= created.created_on
    group by months.period, population.legacy_commune_code
)

select
    snapshot.period || ':' || snapshot.legacy_commune_code as coverage_key,
    snapshot.period,
    snapshot.legacy_commune_code,
    population.legacy_district_code,
    population.legacy_province_code,
    coalesce(
        {{ resolve_admin_code(
            'population.legacy_commune_code', "cast('2025-06-30' as date)"
        ) }},
        population.sent_new_commune_code
    ) as commune_code,
    population.residents,
    snapshot.ehr_persons,
    snapshot.e_medical_book_persons,
    snapshot.remote_booking_persons,
    case
        when population.residents > 0
            then cast(snapshot.ehr_persons as double precision) / population.residents
    end as ehr_coverage_rate
from snapshot
inner join population
    on snapshot.legacy_commune_code = population.legacy_commune_code
