-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- One agriculture system's table, staged by macros/agri_staging.sql.
{{ agri_staging('TT01', 'rice_seed', ['variety', 'certified_seed_t']) }}
