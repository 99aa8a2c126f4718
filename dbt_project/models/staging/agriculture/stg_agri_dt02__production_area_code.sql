-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- One agriculture system's table, staged by macros/agri_staging.sql.
{{ agri_staging('DT02', 'production_area_code', [
    'area_code',
    'crop',
    'area_ha',
    'export_market',
    'status'
]) }}
