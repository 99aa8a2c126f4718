-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- One agriculture system's table, staged by macros/agri_staging.sql.
{{ agri_staging('TS02', 'fishing_vessel', ['registration_no', 'length_m', 'power_kw']) }}
