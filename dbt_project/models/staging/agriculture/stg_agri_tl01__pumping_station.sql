-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- One agriculture system's table, staged by macros/agri_staging.sql.
{{ agri_staging('TL01', 'pumping_station', ['station_code', 'pumps_running', 'hours']) }}
