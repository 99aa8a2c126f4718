-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- One agriculture system's table, staged by macros/agri_staging.sql.
{{ agri_staging('KL02', 'forest_fire_risk', ['fire_level', 'dryness_index']) }}
