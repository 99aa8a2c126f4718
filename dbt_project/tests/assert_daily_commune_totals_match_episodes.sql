-- Every episode is counted once in the daily commune aggregate: returns a row if not.
with totals as (
    select
        (select count(*) from {{ ref('fct_health_episode') }}) as episodes,
        (
            select coalesce(sum(episodes), 0)
            from {{ ref('agg_health_episode_daily_commune') }}
        ) as aggregated
)

select *
from totals
where episodes != aggregated
