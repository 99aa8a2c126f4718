-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- One agriculture system's table, staged by macros/agri_staging.sql.
{{ agri_staging('DT01', 'pest_outbreak', [
    'pest',
    'crop',
    'infested_ha',
    'severity',
    'treated_ha'
]) }}
