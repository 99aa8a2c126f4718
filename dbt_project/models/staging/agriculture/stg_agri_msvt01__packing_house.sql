-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- One agriculture system's table, staged by macros/agri_staging.sql.
{{ agri_staging('MSVT01', 'packing_house', ['packing_code', 'crop', 'capacity_t_day']) }}
