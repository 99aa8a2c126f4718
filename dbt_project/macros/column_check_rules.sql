{#- The rules of a column_checks test (tests/generic/column_checks.sql), each as the SQL
    condition of a row that breaks it, over the model aliased ``checked`` and its parents'
    keys aliased ``parent_<n>`` in the order of ``relationships``. -#}
{% macro column_check_rules(not_null, accepted_values, relationships) %}
    {%- set rules = [] -%}
    {%- for column in not_null -%}
        {%- do rules.append({
            "rule": "not_null",
            "column": column,
            "broken": "checked." ~ column ~ " is null",
        }) -%}
    {%- endfor -%}
    {%- for column, values in accepted_values.items() -%}
        {%- set literals = [] -%}
        {%- for value in values -%}
            {%- if value is string -%}
                {%- do literals.append("'" ~ value | replace("'", "''") ~ "'") -%}
            {%- elif value is sameas true or value is sameas false -%}
                {%- do literals.append(value | string | lower) -%}
            {%- else -%}
                {%- do literals.append(value | string) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do rules.append({
            "rule": "accepted_values",
            "column": column,
            "broken": "checked." ~ column ~ " is not null and checked." ~ column
                ~ " not in (" ~ literals | join(", ") ~ ")",
        }) -%}
    {%- endfor -%}
    {%- for column, parent in relationships.items() -%}
        {%- do rules.append({
            "rule": "relationships",
            "column": column,
            "broken": "checked." ~ column ~ " is not null and parent_" ~ loop.index
                ~ ".parent_key is null",
        }) -%}
    {%- endfor -%}
    {%- if not rules -%}
        {{ exceptions.raise_compiler_error("column_checks: no rule given") }}
    {%- endif -%}
    {{ return(rules) }}
{% endmacro %}
