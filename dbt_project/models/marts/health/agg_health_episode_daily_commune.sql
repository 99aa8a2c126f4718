-- Communes of today (a residence sent with a pre-July-2025 code counts in the commune that
-- absorbed it); a residence outside the province keeps the code it was sent with.
select
    episodes.admission_date as episode_date,
    coalesce(episodes.current_commune_code, episodes.residence_commune_code) as commune_code,
    communes.admin_unit_name as commune_name,
    communes.latitude,
    communes.longitude,
    count(*) as episodes,
    sum(episodes.total_cost_vnd) as total_cost_vnd
from {{ ref('fct_health_episode') }} as episodes
left join {{ ref('dim_admin_unit') }} as communes
    on
        coalesce(episodes.current_commune_code, episodes.residence_commune_code)
        = communes.admin_unit_code
        and communes.is_current
        and communes.admin_level = 'commune'
group by
    episodes.admission_date,
    coalesce(episodes.current_commune_code, episodes.residence_commune_code),
    communes.admin_unit_name,
    communes.latitude,
    communes.longitude
