-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- One agriculture system's table, staged by macros/agri_staging.sql.
{{ agri_staging('TL01', 'irrigation_work', ['work_code', 'work_type', 'status', 'served_ha']) }}
