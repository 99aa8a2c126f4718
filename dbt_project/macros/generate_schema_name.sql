{#- Schemas are named by layer (staging, marts, ...) exactly, not prefixed by the target's
    schema, so dashboards and gates can name them the same in every environment. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
