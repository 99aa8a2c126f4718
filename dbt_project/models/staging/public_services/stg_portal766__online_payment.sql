-- QĐ 766 feed, online payment tree (formality-online-payment-tree), one row per landed record.
with source as (
    select * from {{ source('portal766', 'online_payment') }}
)

select
    _period as period,
    id as unit_code,
    name as unit_name,
    totalreceived as received_count,
    totaldossieronlinepaymentsuccess as paid_online_count,
    totalfeeformalities as fee_procedure_count,
    totalfeeformalitiespaidonline as fee_procedure_paid_online_count,
    ratio as ratio_pct,
    score,
    _run_id as run_id,
    load_date
from source
