-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- One agriculture system's table, staged by macros/agri_staging.sql.
{{ agri_staging('KDTV01', 'plant_quarantine', [
    'consignment_no',
    'commodity',
    'destination',
    'weight_t',
    'result'
]) }}
