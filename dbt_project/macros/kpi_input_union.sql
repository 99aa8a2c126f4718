{#- The union of the kpi_input models (macros/kpi_inputs.sql), in the contract's columns and
    types, with the name of the model each row came from; an empty typed select while no
    sector provides one yet. -#}
{% macro kpi_input_union() -%}
    {%- set selects = [] -%}
    {%- for name in kpi_input_models() -%}
        {%- set one_input -%}
            select
                cast(kpi_id as varchar) as kpi_id,
                cast(period as varchar) as period,
                cast(admin_level as varchar) as admin_level,
                cast(admin_code as varchar) as admin_code,
                cast(structure as varchar) as structure,
                cast(numerator as double precision) as numerator,
                cast(denominator as double precision) as denominator,
                cast(value as double precision) as value,
                '{{ name }}' as input_model
            from {{ ref(name) }}
        {%- endset -%}
        {%- do selects.append(one_input) -%}
    {%- endfor -%}
    {%- set no_input -%}
        select
            cast(null as varchar) as kpi_id,
            cast(null as varchar) as period,
            cast(null as varchar) as admin_level,
            cast(null as varchar) as admin_code,
            cast(null as varchar) as structure,
            cast(null as double precision) as numerator,
            cast(null as double precision) as denominator,
            cast(null as double precision) as value,
            cast(null as varchar) as input_model
        where 1 = 0
    {%- endset -%}
    {{ selects | join('\n union all\n') if selects else no_input }}
{%- endmacro %}
