-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- One agriculture system's table, staged by macros/agri_staging.sql.
{{ agri_staging('TY01', 'outbreak_response', ['disease', 'culled', 'disinfected_ha']) }}
