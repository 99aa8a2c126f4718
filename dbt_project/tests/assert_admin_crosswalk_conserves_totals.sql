-- Totals are conserved when old communes roll up to new ones. The package has no additive
-- attribute on the old communes (no population, no area), so the additive fact is the count of
-- old communes itself (1 each): rolled up through the crosswalk's default targets, the per-new-
-- commune counts must sum to the number of old communes (tolerance 0: integer counts). It
-- follows from the checks below, each returned as a failing row:
-- every old commune has exactly one default target, in the new province 82; every new commune
-- is reached; no old commune is missing from the crosswalk; whole mappings carry share 1.
with legacy as (
    select commune_code from {{ ref('admin_unit_legacy') }}
),

current_units as (
    select
        commune_code,
        province_code
    from {{ ref('admin_unit_2025') }}
),

crosswalk as (
    select * from {{ ref('dim_admin_crosswalk') }}
),

defaults_per_legacy as (
    select
        legacy.commune_code,
        count(crosswalk.new_commune_code) as default_targets
    from legacy
    left join crosswalk
        on
            legacy.commune_code = crosswalk.legacy_commune_code
            and crosswalk.is_default_target
    group by legacy.commune_code
),

rolled_up as (
    select
        current_units.commune_code,
        count(crosswalk.legacy_commune_code) as legacy_communes
    from current_units
    left join crosswalk
        on
            current_units.commune_code = crosswalk.new_commune_code
            and crosswalk.is_default_target
    group by current_units.commune_code
),

totals as (
    select
        (select count(*) from legacy) as legacy_total,
        (select sum(legacy_communes) from rolled_up) as rolled_up_total
),

failures as (
    select
        'old commune without exactly one default target' as problem,
        commune_code as code
    from defaults_per_legacy
    where default_targets != 1

    union all

    select
        'new commune reached by no old commune' as problem,
        commune_code as code
    from rolled_up
    where legacy_communes = 0

    union all

    select
        'target outside the new province 82' as problem,
        crosswalk.new_commune_code as code
    from crosswalk
    left join current_units
        on crosswalk.new_commune_code = current_units.commune_code
    where coalesce(current_units.province_code, '') != '82'

    union all

    select
        'crosswalk row for an unknown old commune' as problem,
        crosswalk.legacy_commune_code as code
    from crosswalk
    left join legacy
        on crosswalk.legacy_commune_code = legacy.commune_code
    where legacy.commune_code is null

    union all

    select
        'whole mapping without share 1, or split target with a share' as problem,
        legacy_commune_code as code
    from crosswalk
    where
        (not is_split and coalesce(share, 0) != 1)
        or (is_split and share is not null)

    union all

    select
        'rolled-up total differs from the old communes total' as problem,
        cast(rolled_up_total as varchar) as code
    from totals
    where rolled_up_total != legacy_total
)

select * from failures
