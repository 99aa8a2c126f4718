-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- One agriculture system's table, staged by macros/agri_staging.sql.
{{ agri_staging('DT02', 'area_harvest_sale', ['area_code', 'buyer', 'sold_t', 'price_vnd_kg']) }}
