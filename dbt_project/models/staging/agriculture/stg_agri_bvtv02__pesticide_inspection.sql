-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- One agriculture system's table, staged by macros/agri_staging.sql.
{{ agri_staging('BVTV02', 'pesticide_inspection', ['inspection_no', 'result', 'fine_kvnd']) }}
