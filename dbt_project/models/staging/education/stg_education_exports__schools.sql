-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Sheet "Truong" of the term exports: one row per school and workbook, renamed and decoded. The
-- school year and term come from the workbook's path (<school year>/<HK1|HK2>/<file>.xlsx); the
-- export date (HK1 30 September, HK2 28 February) decides how the sent admin codes are read.
with source as (
    select * from {{ source('education_exports', 'truong') }}
),

terms as (
    select
        *,
        split_part(_source_file, '/', 1) as school_year,
        split_part(_source_file, '/', 2) as term_code,
        case split_part(_source_file, '/', 2)
            when 'HK1'
                then make_date(cast(left(split_part(_source_file, '/', 1), 4) as integer), 9, 30)
            when 'HK2'
                then make_date(cast(right(split_part(_source_file, '/', 1), 4) as integer), 2, 28)
        end as export_date
    from source
),

renamed as (
    select
        ma_truong as school_code,
        ten_truong as school_name,
        cap_hoc as level_label,
        loai_hinh as ownership_label,
        dia_ban__ma_tinh as sent_province_code,
        nullif(trim(dia_ban__ma_huyen), '') as sent_district_code,
        dia_ban__ma_xa as sent_commune_code,
        school_year,
        term_code,
        export_date,
        _run_id as run_id,
        _source_file as source_file,
        load_date,
        case cap_hoc
            when 'Mầm non' then 'MN'
            when 'Tiểu học' then 'TH'
            when 'Trung học cơ sở' then 'THCS'
            when 'Trung học phổ thông' then 'THPT'
            when 'Giáo dục thường xuyên' then 'GDTX'
            when 'Giáo dục nghề nghiệp' then 'GDNN'
        end as level_code,
        case loai_hinh
            when 'Công lập' then true
            when 'Tư thục' then false
        end as is_public,
        {{ resolve_admin_code('dia_ban__ma_xa', 'export_date', 'dia_ban__ma_huyen') }}
            as commune_code
    from terms
)

select
    renamed.*,
    -- the old district, for a term exported before the reorganisation (districts ended then)
    case
        when renamed.export_date < cast('2025-07-01' as date)
            then coalesce(renamed.sent_district_code, legacy.district_code)
    end as legacy_district_code
from renamed
left join {{ ref('admin_unit_legacy') }} as legacy
    on renamed.sent_commune_code = legacy.commune_code
