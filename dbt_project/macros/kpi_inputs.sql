{#
    The KPI contract's inputs: the models tagged `kpi_input`
    (models/intermediate/kpi/int_kpi__<sector>[__<topic>].sql).

    dbt's `graph` is empty while it parses, so the models a model depends on cannot be found
    from their tag then; they are listed here instead (add a new input's name to the list).
    While parsing (`execute` false) fct_kpi_value calls `ref()` on each listed model, which
    makes dbt build them first. At run time the list is checked against the models that carry
    the tag: a tagged model missing from the list (or a listed one without the tag) stops the
    build with a message saying what to change, so no input is silently left out.
#}
{% macro kpi_input_model_names() -%}
    {{ return([
        "int_kpi__agriculture",
        "int_kpi__education",
        "int_kpi__health",
        "int_kpi__iot",
        "int_kpi__public_services",
        "int_kpi__public_services__catalogue",
        "int_kpi__public_services__dti",
        "int_kpi__statistics",
    ]) }}
{%- endmacro %}

{#- The listed inputs, checked against the tag at run time. -#}
{% macro kpi_input_models() %}
    {% set listed = kpi_input_model_names() | sort %}
    {% if execute %}
        {% set tagged = [] %}
        {% for node in graph.nodes.values() %}
            {% if node.resource_type == 'model' and 'kpi_input' in node.tags %}
                {% do tagged.append(node.name) %}
            {% endif %}
        {% endfor %}
        {% set unlisted = tagged | reject('in', listed) | list %}
        {% set untagged = listed | reject('in', tagged) | list %}
        {% if unlisted or untagged %}
            {{ exceptions.raise_compiler_error(
                "KPI inputs out of step: tagged kpi_input but not listed in "
                ~ "macros/kpi_inputs.sql kpi_input_model_names(): " ~ (unlisted | join(', '))
                ~ "; listed but not tagged kpi_input: " ~ (untagged | join(', '))
            ) }}
        {% endif %}
    {% endif %}
    {{ return(listed) }}
{%- endmacro %}
