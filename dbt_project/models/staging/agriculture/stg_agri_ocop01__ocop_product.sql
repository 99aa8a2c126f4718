-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- One agriculture system's table, staged by macros/agri_staging.sql.
{{ agri_staging('OCOP01', 'ocop_product', ['product_code', 'category', 'stars', 'platform']) }}
