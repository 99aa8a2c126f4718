-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- One agriculture system's table, staged by macros/agri_staging.sql.
{{ agri_staging('PCTT01', 'dyke_incident', ['incident_no', 'length_m']) }}
