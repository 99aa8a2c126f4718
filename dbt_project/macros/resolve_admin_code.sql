{#
    The current (post-July 2025) commune code of a commune code a source sent, as a SQL
    expression: `{{ resolve_admin_code('maxa', 'admission_date', 'mahuyen') }} as commune_code`.

    - Sent for a date before 2025-07-01, or with a non-empty district code (districts exist only
      in the old structure): read as an old code → its default new commune through the
      crosswalk; a code that exists only in the new structure is kept as is.
    - Sent for a later date (or no date): read as a new code if it exists in the new structure,
      else as an old code (systems keep sending old codes) → its default new commune.
    - A code of neither structure of the province (another province, a typo) → null.
    A split old commune goes to its default target (the package gives no finer location).
    Plain correlated scalar subqueries and CASE: portable to dbt-postgres.
#}
{% macro resolve_admin_code(code_column, date_column, district_column=none) -%}
    {%- set no_district = 'cast(null as varchar)' -%}
    {%- set district = district_column if district_column is not none else no_district -%}
    case
        when {{ code_column }} is null then null
        when
            {{ date_column }} < cast('2025-07-01' as date)
            or coalesce(trim({{ district }}), '') != ''
            then {{ _resolve_admin_code_as(code_column, 'legacy') }}
        else {{ _resolve_admin_code_as(code_column, 'current') }}
    end
{%- endmacro %}

{#- The code read as an old code first (legacy) or as a new code first (current). -#}
{% macro _resolve_admin_code_as(code_column, first) -%}
    {%- set as_legacy -%}
        (
            select resolve_xw.new_commune_code
            from {{ ref('admin_crosswalk') }} as resolve_xw
            where
                resolve_xw.legacy_commune_code = {{ code_column }}
                and resolve_xw.is_default_target
        )
    {%- endset -%}
    {%- set as_current -%}
        (
            select resolve_cur.commune_code
            from {{ ref('admin_unit_2025') }} as resolve_cur
            where resolve_cur.commune_code = {{ code_column }}
        )
    {%- endset -%}
    {%- if first == 'legacy' -%}
        coalesce({{ as_legacy }}, {{ as_current }})
    {%- else -%}
        coalesce({{ as_current }}, {{ as_legacy }})
    {%- endif -%}
{%- endmacro %}
