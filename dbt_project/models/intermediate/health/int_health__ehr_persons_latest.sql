-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- One row per person with an EHR: the incremental cursor (last_updated) re-reads a record each
-- time it changes, so the latest update wins (then the latest landing run).
{{ latest_per_key(
    ref('stg_ehr_registry__persons'), ['person_key'], 'last_updated desc, run_id desc'
) }}
