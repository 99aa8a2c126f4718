select
    episodes.admission_date as episode_date,
    episodes.residence_commune_code as commune_code,
    communes.admin_unit_name as commune_name,
    communes.latitude,
    communes.longitude,
    count(*) as episodes,
    sum(episodes.total_cost_vnd) as total_cost_vnd
from {{ ref('fct_health_episode') }} as episodes
left join {{ ref('dim_admin_unit') }} as communes
    on
        episodes.residence_commune_code = communes.admin_unit_code
        and communes.is_current
        and communes.admin_level = 'commune'
group by
    episodes.admission_date,
    episodes.residence_commune_code,
    communes.admin_unit_name,
    communes.latitude,
    communes.longitude
