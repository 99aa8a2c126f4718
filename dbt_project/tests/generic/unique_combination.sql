{#- Uniqueness of a column combination. Written here because dbt hub packages (dbt_utils) are
    downloaded at run time, which this platform's offline machines cannot do. -#}
{% test unique_combination(model, columns) %}
select
    {{ columns | join(', ') }},
    count(*) as occurrences
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
