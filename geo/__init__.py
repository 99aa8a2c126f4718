"""The geography of the hub: the admin-unit seeds of the dbt project (geo.admin_seeds) and the
map's GIS layers, computed after dbt and before the publish gate (geo.layers: the province
outline, one zone per commune, and the points of facilities, stations, schools and offices
joined to their communes)."""
