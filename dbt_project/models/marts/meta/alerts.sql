-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Cảnh báo vận hành: the operational rules of the wall (shared/domain/kpis.md §4), evaluated at
-- each build. One row per alert episode: what (rule), about what (subject), where (commune),
-- from when to when (ended_at null while it lasts: is_open), how much (measure against
-- threshold). Each domain's "now" is its own data horizon (the newest contact of any station,
-- the newest readable XML 130 file, the one-stop system's last change), so a whole feed going
-- quiet shows as a stale source, and one station or facility going quiet shows here.
-- iochub.alerts sends the open ones through the configured notifiers after publish.
{{ config(schema='meta') }}

with contacts as (
    select
        station_code,
        contact_at,
        contact_interval,
        lead(contact_at) over (
            partition by station_code order by contact_at
        ) as next_contact_at,
        -- The IoT domain's horizon, water stations and traps alike: judged against the
        -- newest trap count alone, a trap that missed a night the others sent (due at 06:00,
        -- the water stations heard until 23:00) was not silent, and all traps quiet froze it.
        max(contact_at) over () as horizon_at
    from {{ ref('int_iot__station_contacts') }}
),

-- Silent: more than one expected interval without a contact (an hourly reading or a nightly
-- count missed). An episode starts one interval after the last contact; it ends at the next
-- one, or is still open at the horizon.
station_silent as (
    select
        'iot_station_silent' as alert_rule,
        'station' as subject_kind,
        station_code as subject_code,
        case contact_interval
            when 'hour' then {{ dbt.dateadd('hour', 1, 'contact_at') }}
            else {{ dbt.dateadd('day', 1, 'contact_at') }}
        end as started_at,
        next_contact_at as ended_at,
        horizon_at as as_of,
        case contact_interval
            when 'hour' then {{ dbt.datediff(
                'contact_at', 'coalesce(next_contact_at, horizon_at)', 'hour'
            ) }} - 1
            else {{ dbt.datediff(
                'contact_at', 'coalesce(next_contact_at, horizon_at)', 'day'
            ) }} - 1
        end as measure,
        1 as threshold,
        case contact_interval
            when 'hour' then 'giờ không có số liệu (hours without a reading)'
            else 'đêm không có số liệu (nights without a count)'
        end as measure_unit
    from contacts
    where
        (contact_interval = 'hour' and {{ dbt.datediff(
            'contact_at', 'coalesce(next_contact_at, horizon_at)', 'hour'
        ) }} > 1)
        or (contact_interval = 'day' and {{ dbt.datediff(
            'contact_at', 'coalesce(next_contact_at, horizon_at)', 'day'
        ) }} > 1)
),

-- Threshold breaches, one episode per run of consecutive breaching hours (salinity above
-- 4 ‰, or the water level above the alarm level I the province set for the station in the
-- station register, at a water station) or nights (brown planthopper above 3,000 a night at a
-- trap). A breaching hour or night at the horizon of its kind of station leaves the episode open.
breaches as (
    select
        'iot_salinity_breach' as alert_rule,
        'hour' as contact_interval,
        station_code,
        observed_hour as breach_at,
        salinity_ppt_max as observed_value,
        4 as threshold,
        {{ dbt.dateadd(
            'hour',
            '-1 * row_number() over (partition by station_code order by observed_hour)',
            'observed_hour'
        ) }} as island
    from {{ ref('fct_iot_reading_hourly') }}
    where is_salinity_alert
    union all
    select
        'iot_water_level_breach' as alert_rule,
        'hour' as contact_interval,
        station_code,
        observed_hour as breach_at,
        water_level_cm_max as observed_value,
        water_level_alarm_cm as threshold,
        {{ dbt.dateadd(
            'hour',
            '-1 * row_number() over (partition by station_code order by observed_hour)',
            'observed_hour'
        ) }} as island
    from {{ ref('fct_iot_reading_hourly') }}
    where is_water_level_alert
    union all
    select
        'iot_insect_density' as alert_rule,
        'day' as contact_interval,
        station_code,
        cast(night_of as timestamp) as breach_at,
        bph_count as observed_value,
        3000 as threshold,
        {{ dbt.dateadd(
            'day',
            '-1 * row_number() over (partition by station_code order by night_of)',
            'cast(night_of as timestamp)'
        ) }} as island
    from {{ ref('fct_insect_trap_nightly') }}
    where is_bph_alert
),

horizons as (
    select
        max(case when contact_interval = 'hour' then contact_at end) as water_horizon_at,
        max(case when contact_interval = 'day' then contact_at end) as trap_horizon_at
    from contacts
),

threshold_breach as (
    select
        breaches.alert_rule,
        'station' as subject_kind,
        breaches.station_code as subject_code,
        min(breaches.breach_at) as started_at,
        case
            when
                breaches.contact_interval = 'hour'
                and max(breaches.breach_at) < max(horizons.water_horizon_at)
                then {{ dbt.dateadd('hour', 1, 'max(breaches.breach_at)') }}
            when
                breaches.contact_interval = 'day'
                and max(breaches.breach_at) < max(horizons.trap_horizon_at)
                then {{ dbt.dateadd('day', 1, 'max(breaches.breach_at)') }}
        end as ended_at,
        case breaches.contact_interval
            when 'hour' then max(horizons.water_horizon_at)
            else max(horizons.trap_horizon_at)
        end as as_of,
        max(breaches.observed_value) as measure,
        -- one station's own level: the same on every breaching hour of the episode
        max(breaches.threshold) as threshold,
        case breaches.alert_rule
            when 'iot_salinity_breach' then '‰ độ mặn cao nhất (highest salinity, ppt)'
            when 'iot_water_level_breach' then 'cm mực nước cao nhất (highest water level, cm)'
            else 'con rầy nâu/đêm cao nhất (most brown planthoppers a night)'
        end as measure_unit
    from breaches
    cross join horizons
    group by
        breaches.alert_rule, breaches.contact_interval, breaches.station_code, breaches.island
),

-- A facility not reporting: more than 2 days without a readable XML 130 file (a file that
-- arrived but could not be read does not count as reporting), for facilities that report daily
-- (a file on at least 80 % of the days of their reporting period; a commune station with no
-- patient on some days is not expected to send a file every day).
facility_files as (
    select distinct
        facility_code,
        file_date
    from {{ ref('int_health__xml130_files_readable') }}
    where facility_code is not null and file_date is not null
),

facility_gaps as (
    select
        facility_code,
        file_date,
        lead(file_date) over (partition by facility_code order by file_date) as next_file_date,
        max(file_date) over () as horizon_date,
        count(*) over (partition by facility_code) as file_days,
        {{ dbt.datediff(
            'min(file_date) over (partition by facility_code)',
            'max(file_date) over ()',
            'day'
        ) }} + 1 as period_days
    from facility_files
),

-- The days after a file without one: up to the day before the next file or, for the last
-- file, up to the horizon day itself (another facility's newest file is dated then, this one
-- sent none): a last file more than 2 days older than the newest file is more than 2 days.
facility_gaps_measured as (
    select
        *,
        case
            when next_file_date is null
                then {{ dbt.datediff('file_date', 'horizon_date', 'day') }}
            else {{ dbt.datediff('file_date', 'next_file_date', 'day') }} - 1
        end as days_without_file
    from facility_gaps
),

facility_silent as (
    select
        'health_facility_not_reporting' as alert_rule,
        'facility' as subject_kind,
        facility_code as subject_code,
        cast({{ dbt.dateadd('day', 1, 'file_date') }} as timestamp) as started_at,
        cast(next_file_date as timestamp) as ended_at,
        cast(horizon_date as timestamp) as as_of,
        days_without_file as measure,
        2 as threshold,
        'ngày không gửi dữ liệu (days without a file)' as measure_unit
    from facility_gaps_measured
    where file_days >= 0.8 * period_days and days_without_file > 2
),

-- Overdue dossiers right now, per handling unit and procedure: received, not finished, past
-- their due date at the one-stop system's last change. A commune office's alert is also split by
-- the dossier's current commune (one old commune's office can serve parts of two new ones), so it
-- shows on the map and a commune leader sees their own; a department's is province-wide.
dossier_clock as (
    select max(updated_at) as now_at
    from {{ ref('fct_dossier') }}
),

overdue_dossiers as (
    select
        dossiers.procedure_code,
        dossiers.due_at,
        coalesce(dossiers.handling_unit, '?') as handling_unit,
        case when catalogue.authority_level = 'xa' then dossiers.commune_code end
            as commune_code,
        coalesce(catalogue.procedure_name, dossiers.procedure_code) as procedure_name
    from {{ ref('fct_dossier') }} as dossiers
    cross join dossier_clock
    left join {{ ref('dim_procedure') }} as catalogue
        on dossiers.procedure_code = catalogue.procedure_code
    where
        dossiers.is_counted
        and not dossiers.is_finished
        and dossiers.due_at < dossier_clock.now_at
),

overdue_units as (
    select
        'unit_procedure' as subject_kind,
        handling_unit || '|' || procedure_code || coalesce('|' || commune_code, '')
            as subject_code,
        handling_unit || ': ' || procedure_name as subject_name,
        commune_code,
        min(due_at) as started_at,
        count(*) as overdue_count
    from overdue_dossiers
    group by handling_unit, procedure_code, procedure_name, commune_code
),

dossier_overdue as (
    select
        'dossier_overdue' as alert_rule,
        overdue_units.subject_kind,
        overdue_units.subject_code,
        overdue_units.started_at,
        cast(null as timestamp) as ended_at,
        dossier_clock.now_at as as_of,
        overdue_units.overdue_count as measure,
        0 as threshold,
        'hồ sơ quá hạn (overdue dossiers)' as measure_unit
    from overdue_units
    cross join dossier_clock
),

-- Sources: stale against their declared freshness, or their last run rejected more than 5 %
-- of a table's rows.
freshness as (
    select * from {{ ref('meta_source_freshness') }}
),

source_stale as (
    select
        'source_stale' as alert_rule,
        'source' as subject_kind,
        source_name as subject_code,
        min(last_success_at) as started_at,
        cast(null as timestamp) as ended_at,
        max(built_at) as as_of,
        max(hours_since_success) as measure,
        max(freshness_hours) as threshold,
        'giờ từ lần lấy dữ liệu thành công (hours since the last good extract)' as measure_unit
    from freshness
    where is_stale
    group by source_name
),

source_failing as (
    select
        'source_failing' as alert_rule,
        'source' as subject_kind,
        source_name as subject_code,
        min(first_failure_at) as started_at,
        cast(null as timestamp) as ended_at,
        max(built_at) as as_of,
        max(failures_since_success) as measure,
        1 as threshold,
        'lần lấy dữ liệu lỗi liên tiếp (failed extract runs in a row)' as measure_unit
    from freshness
    where is_failing
    group by source_name
),

source_quarantine as (
    select
        'source_quarantine_rate' as alert_rule,
        'source_table' as subject_kind,
        source_table_id as subject_code,
        last_success_at as started_at,
        cast(null as timestamp) as ended_at,
        built_at as as_of,
        -- numeric(18, 6): DuckDB's bare numeric is decimal(18, 3), rounded twice (12.3449 % →
        -- 12.345 → 12.35 against PostgreSQL's 12.34)
        round(
            cast(100.0 * last_run_rows_quarantined / last_run_rows_in as numeric(18, 6)), 2
        ) as measure,
        5 as threshold,
        '% dòng bị cách ly ở lần chạy cuối (% rows quarantined by the last run)'
            as measure_unit
    from freshness
    where last_run_rows_in > 0 and last_run_rows_quarantined * 20 > last_run_rows_in
),

-- QĐ 766 values the national portal publishes differently from the hub with no known cause
-- (marts.kpi_reconciliation), the gap above the catalogue's threshold: open while it lasts.
reconciliation_gap as (
    select
        'kpi_reconciliation_gap' as alert_rule,
        'kpi_cell' as subject_kind,
        kpi_reconciliation_id as subject_code,
        cast(period || '-01' as date) as started_at,
        cast(null as timestamp) as ended_at,
        current_timestamp as as_of,
        abs(coalesce(portal_value, 0) - coalesce(hub_value, 0)) as measure,
        reconciliation_threshold as threshold,
        'chênh lệch với Cổng DVC quốc gia (gap to the national portal, indicator unit)'
            as measure_unit
    from {{ ref('kpi_reconciliation') }}
    where is_alert
),

episodes as (
    select * from station_silent
    union all
    select * from threshold_breach
    union all
    select * from facility_silent
    union all
    select * from dossier_overdue
    union all
    select * from source_stale
    union all
    select * from source_failing
    union all
    select * from source_quarantine
    union all
    select * from reconciliation_gap
),

rules as (
    select
        rules.alert_rule,
        rules.sector,
        rules.severity,
        rules.rule_name
    from (
        values
        ('iot_station_silent', 'iot', 'warning', 'Trạm quan trắc mất tín hiệu (station silent)'),
        ('iot_salinity_breach', 'iot', 'critical', 'Độ mặn vượt ngưỡng (salinity above 4 ‰)'),
        -- Level I is the first of the three alarm levels (II and III are higher): a warning.
        (
            'iot_water_level_breach', 'iot', 'warning',
            'Mực nước vượt báo động I (water level above the station''s alarm level I)'
        ),
        (
            'iot_insect_density', 'agriculture', 'critical',
            'Mật độ rầy nâu vượt ngưỡng (brown planthopper above 3,000 a night)'
        ),
        (
            'health_facility_not_reporting', 'health', 'warning',
            'Cơ sở y tế không gửi dữ liệu quá 2 ngày (facility not reporting for over 2 days)'
        ),
        ('dossier_overdue', 'public_services', 'warning', 'Hồ sơ TTHC quá hạn (overdue dossiers)'),
        ('source_stale', 'data', 'critical', 'Nguồn dữ liệu không cập nhật (source stale)'),
        ('source_failing', 'data', 'critical', 'Nguồn dữ liệu đang lỗi (source failing)'),
        (
            'source_quarantine_rate', 'data', 'warning',
            'Tỷ lệ dòng bị cách ly cao (over 5 % of rows quarantined)'
        ),
        (
            'kpi_reconciliation_gap', 'public_services', 'warning',
            'Chỉ tiêu 766 lệch với Cổng DVC quốc gia (unexplained gap to the national portal)'
        )
    ) as rules (alert_rule, sector, severity, rule_name)
),

subjects as (
    select
        'station' as subject_kind,
        station_code as subject_code,
        station_name as subject_name,
        commune_code
    from {{ ref('dim_station') }}
    union all
    select
        'facility' as subject_kind,
        facility_code as subject_code,
        facility_name as subject_name,
        commune_code
    from {{ ref('dim_facility') }}
    union all
    select
        subject_kind,
        subject_code,
        subject_name,
        commune_code
    from overdue_units
    union all
    select
        'kpi_cell' as subject_kind,
        kpi_reconciliation_id as subject_code,
        kpi_id || ' ' || period || ' ' || admin_code as subject_name,
        case when admin_level = 'commune' then admin_code end as commune_code
    from {{ ref('kpi_reconciliation') }}
)

select
    episodes.alert_rule || '|' || episodes.subject_code || '|'
    || coalesce(cast(episodes.started_at as varchar), '-') as alert_id,
    episodes.alert_rule,
    rules.rule_name,
    rules.sector,
    rules.severity,
    episodes.subject_kind,
    episodes.subject_code,
    coalesce(subjects.subject_name, episodes.subject_code) as subject_name,
    subjects.commune_code,
    cast(episodes.started_at as timestamp) as started_at,
    cast(episodes.ended_at as timestamp) as ended_at,
    episodes.ended_at is null as is_open,
    cast(episodes.as_of as timestamp) as as_of,
    cast(episodes.measure as double precision) as measure,
    cast(episodes.threshold as double precision) as threshold,
    episodes.measure_unit
from episodes
inner join rules
    on episodes.alert_rule = rules.alert_rule
left join subjects
    on
        episodes.subject_kind = subjects.subject_kind
        and episodes.subject_code = subjects.subject_code
