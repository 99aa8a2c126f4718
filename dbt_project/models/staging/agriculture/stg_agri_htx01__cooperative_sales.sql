-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- One agriculture system's table, staged by macros/agri_staging.sql.
{{ agri_staging('HTX01', 'cooperative_sales', ['coop_code', 'product', 'sold_t']) }}
