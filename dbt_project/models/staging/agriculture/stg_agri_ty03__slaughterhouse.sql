-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- One agriculture system's table, staged by macros/agri_staging.sql.
{{ agri_staging('TY03', 'slaughterhouse', ['facility_code', 'species', 'slaughtered']) }}
