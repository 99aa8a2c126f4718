{#- A model's column rules in one query: the columns that may not be null, the codes a column
    may hold, the table each key points to. dbt's own not_null, accepted_values and
    relationships tests say the same with one node per column and rule, each a query of its
    own; a build after a tick ran 1,100 of them, about 50 ms of dbt per node before the query,
    and on a view each recomputes the view (bench/README.md, `tick`). Here the model is read
    once, joined to each parent's distinct keys, and every rule counted in the same pass.

    One row per broken rule: the rule, the column, how many rows break it and one example
    value, so dbt's "Got N results" names what to look at in the compiled SQL's output.

    not_null: [column, ...]
    accepted_values: {column: [value, ...]}      values compared as written (strings quoted,
                                                  numbers and booleans not)
    relationships: {column: {to: ref('parent'), field: parent_column}}
-#}
{% test column_checks(model, not_null=[], accepted_values={}, relationships={}) %}
    {%- set rules = column_check_rules(not_null, accepted_values, relationships) %}
with
    {%- for column, parent in relationships.items() %}
    parent_{{ loop.index }} as (
        select distinct {{ parent.field }} as parent_key
        from {{ parent.to }}
        where {{ parent.field }} is not null
    ),
{%- endfor %}

counted as (
    select
    {%- for rule in rules %}
            sum(case when {{ rule.broken }} then 1 else 0 end) as broken_{{ loop.index }},
            min(case when {{ rule.broken }} then cast(checked.{{ rule.column }} as varchar) end)
                as example_{{ loop.index }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ model }} as checked
    {%- for column, parent in relationships.items() %}
        left join parent_{{ loop.index }}
            on checked.{{ column }} = parent_{{ loop.index }}.parent_key
    {%- endfor %}
),

rules as (
{%- for rule in rules %}
        select
            '{{ rule.rule }}' as rule_name,
            '{{ rule.column }}' as column_name,
            broken_{{ loop.index }} as failing_rows,
            example_{{ loop.index }} as example_value
        from counted
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select
    rule_name,
    column_name,
    failing_rows,
    example_value
from rules
where failing_rows > 0
{% endtest %}
