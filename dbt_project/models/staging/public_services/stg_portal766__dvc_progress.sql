-- QĐ 766 feed, on-time handling tree (dvc-progress-tree), one row per landed record: a month
-- re-read lands again (int_public_services__portal766_monthly keeps the latest run).
with source as (
    select * from {{ source('portal766', 'dvc_progress') }}
)

select
    _period as period,
    id as unit_code,
    name as unit_name,
    totalreceived as received_count,
    totalontime as on_time_count,
    totaloverdue as overdue_count,
    totalcompleted as completed_count,
    totalsynced as synced_count,
    totalreportedreceived as reported_received_count,
    avgprocessingdays as avg_processing_days,
    ratio as ratio_pct,
    score,
    _run_id as run_id,
    load_date
from source
