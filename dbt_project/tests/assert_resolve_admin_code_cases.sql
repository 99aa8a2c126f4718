-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- resolve_admin_code on known cases from the seeds (codes from admin_crosswalk.csv): returns
-- the cases where the resolved code is not the expected one.
with cases as (
    select *
    from (
        values
        -- old Mỹ Tho Phường 4, before the change → Phường Đạo Thạnh (correction AC-003)
        ('28252', cast('2025-06-01' as date), cast(null as varchar), '28249'),
        -- the same old code still sent after the change (exists only as legacy)
        ('28252', cast('2025-08-01' as date), cast(null as varchar), '28249'),
        -- a code of both structures, before and after, with an old district code
        ('28249', cast('2025-06-01' as date), cast(null as varchar), '28249'),
        ('28249', cast('2025-08-01' as date), '815', '28249'),
        ('29869', cast(null as date), cast(null as varchar), '29869'),
        -- split old commune (Phú Thuận B) → its default target Long Phú Thuận
        ('29995', cast('2025-06-01' as date), cast(null as varchar), '29992'),
        -- corrected suspect split (Sa Đéc Phường 4, AC-002) → Phường Sa Đéc
        ('29908', cast('2025-08-01' as date), ' ', '29905'),
        -- not a commune of the province, and no code at all
        ('00001', cast('2025-08-01' as date), cast(null as varchar), cast(null as varchar)),
        (
            cast(null as varchar),
            cast('2025-08-01' as date),
            cast(null as varchar),
            cast(null as varchar)
        )
    ) as sent_values (sent_code, sent_date, sent_district, expected_code)  -- noqa: AL05
),

resolved as (
    select
        sent_code,
        sent_date,
        sent_district,
        expected_code,
        {{ resolve_admin_code('sent_code', 'sent_date', 'sent_district') }} as resolved_code
    from cases
)

select *
from resolved
where resolved_code is distinct from expected_code
