-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- One agriculture system's table, staged by macros/agri_staging.sql.
{{ agri_staging('DT08', 'gate_operation', ['gate_code', 'action', 'salinity_ppt']) }}
