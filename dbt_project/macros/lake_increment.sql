{#-
  Incremental models over the lake: a build reads only the extract runs committed since the
  model last merged, instead of the source's whole history.

  The lake is append-only and every landed row carries its run (`_run_id`, the staging models'
  `run_id`) and landing day (`load_date`, the Hive partition), and the manifests list the
  committed runs (`lake_runs`). Each incremental model keeps, in `<its schema>.lake_merged_runs`,
  the runs it has merged; the runs to merge are the source's committed runs not yet there. A
  model filters its input with `lake_increment_filter` (the run ids as constants, so DuckDB
  skips other days' partitions and other runs' row groups by their statistics) and its
  post-hook `lake_increment_record` notes the runs as merged.

  Both the model and its post-hook list the runs committed no later than the invocation's start
  (`run_started_at`): a run committed while the model builds is neither merged nor recorded,
  and the next build takes it. Merging a run twice changes nothing (every merge keeps the
  latest version per key among the new rows and the kept ones), so a build that failed half-way
  is simply run again. A full refresh (`dbt build --full-refresh`, or the model's first build)
  reads the whole lake and starts the model's record afresh.
-#}

{% macro lake_increment_log() -%}
    {{ return(api.Relation.create(database=this.database, schema=this.schema,
        identifier='lake_merged_runs')) }}
{%- endmacro %}

{#- The committed runs of `source_name` to merge into the model being built: a list of
    (run_id, load_date) rows. Everything committed when not incremental. -#}
{% macro lake_increment_runs(source_name) -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set log = lake_increment_log() -%}
    {%- do run_query(
        'create table if not exists ' ~ log
        ~ ' (model_name varchar, source_name varchar, run_id varchar)'
    ) -%}
    {%- set cutoff = run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') -%}
    {%- set runs = run_query(
        "select run_id, cast(load_date as varchar) from (" ~ lake_runs(source_name)
        ~ ") as committed where finished_at <= cast('" ~ cutoff ~ "' as timestamp)"
        ~ (" and run_id not in (select run_id from " ~ log ~ " where model_name = '"
            ~ this.identifier ~ "')" if is_incremental() else "")
        ~ " order by run_id"
    ) -%}
    {{ return(runs.rows) }}
{%- endmacro %}

{#- A where-clause condition keeping the rows of the runs to merge (all rows on a full build). -#}
{% macro lake_increment_filter(source_name, run_column='run_id', load_date_column='load_date') -%}
    {%- if not is_incremental() -%}
        true
    {%- else -%}
        {%- set runs = lake_increment_runs(source_name) -%}
        {%- if runs | length == 0 -%}
            false
        {%- else -%}
            {{ load_date_column }} >= cast('{{ runs | map(attribute=1) | min }}' as date)
            and {{ run_column }} in ('{{ runs | map(attribute=0) | join("', '") }}')
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- Post-hook: the runs just merged are recorded; a full build first forgets the model's old
    record. -#}
{% macro lake_increment_record(source_name) -%}
    {%- set log = lake_increment_log() -%}
    {%- set runs = lake_increment_runs(source_name) -%}
    {%- if not is_incremental() %}
        delete from {{ log }} where model_name = '{{ this.identifier }}';
    {%- endif %}
    {%- if runs | length > 0 %}
        insert into {{ log }} (model_name, source_name, run_id)
        select
            '{{ this.identifier }}',
            '{{ source_name }}',
            merged.run_id
        from (values ('{{ runs | map(attribute=0) | join("'), ('") }}')) as merged (run_id);
    {%- endif %}
{%- endmacro %}

{#- Pre-hook of a model of an episode's lines (drug, service, paraclinical): on an incremental
    build the lines of every episode whose latest version came with the runs being merged are
    deleted, and the model then appends that version's lines. An episode whose new version has
    no lines of this kind loses its old ones, as a full build would drop them. -#}
{% macro lake_increment_drop_lines(source_name) -%}
    {%- if is_incremental() %}
        delete from {{ this }} as line
        where exists (
            select 1
            from {{ ref('int_health_episodes_latest') }} as episode
            where
                episode.facility_code = line.facility_code
                and episode.episode_id = line.episode_id
                and {{ lake_increment_filter(source_name, 'episode.run_id', 'episode.load_date') }}
        )
    {%- endif %}
{%- endmacro %}
