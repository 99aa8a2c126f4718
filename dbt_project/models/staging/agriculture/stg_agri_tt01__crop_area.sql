-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- One agriculture system's table, staged by macros/agri_staging.sql.
{{ agri_staging('TT01', 'crop_area', [
    'crop',
    'season',
    'planted_ha',
    'harvested_ha',
    'yield_t_ha'
]) }}
