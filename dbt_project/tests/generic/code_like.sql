{#- Every value of the column has one of the code shapes ``patterns`` (SQL LIKE patterns): for
    codes of a register that grows (a province installs a station), the shape is what a code
    must have, not membership in today's list. -#}
{% test code_like(model, column_name, patterns) %}
select {{ column_name }}
from {{ model }}
where
    {{ column_name }} is not null
    and not (
        {% for pattern in patterns %}{{ column_name }} like '{{ pattern }}'{{ " or " if not loop.last }}{% endfor %}
    )
{% endtest %}
