-- 监测户 the village may consider for risk elimination (风险消除), with the evidence for
-- each condition: monitored long enough, income at or above the line, no open alert, no
-- recent housing, education, insurance or water finding, and at least one labourer.
with monitored as (
    select
        *,
        -- 识别监测时间 arrives as YYYYMM, YYYY-MM or a full date: its month is what counts.
        try_strptime(substr(regexp_replace(monitoring_since, '[^0-9]', '', 'g'), 1, 6) || '01', '%Y%m%d')::date
            as monitored_from
    from signals.int_households
    where household_type = '监测户' and coalesce(risk_status, '未消除') = '未消除'
),

labourers as (
    select
        household_id,
        count(*) as labourers
    from signals.int_people
    where is_labourer
    group by household_id
),

open_alerts as (
    select
        household_id,
        count(*) as open_alerts
    from alerts.open_alerts
    group by household_id
),

quiet_findings as (
    select
        household_id,
        max(last_updated) as last_finding
    from alerts.alerts
    where category in (select unnest($elimination__quiet_categories::varchar[]))
        and last_updated > $business_date - to_months($elimination__quiet_months)
    group by household_id
),

final as (
    select
        monitored.household_id,
        monitored.township_code,
        monitored.township_name,
        monitored.village_code,
        monitored.village_name,
        monitored.grid_id,
        monitored.monitoring_type,
        monitored.monitored_from,
        date_diff('month', monitored.monitored_from, $business_date) as months_monitored,
        round(monitored.income_per_capita_yuan, 2) as income_per_capita_yuan,
        $monitoring_line as monitoring_line_yuan,
        labourers.labourers
    from monitored
    inner join labourers on monitored.household_id = labourers.household_id
    left join open_alerts on monitored.household_id = open_alerts.household_id
    left join quiet_findings on monitored.household_id = quiet_findings.household_id
    -- Only the month is known: counted from its last day, so no household is listed early.
    where last_day(monitored.monitored_from) + to_months($elimination__monitored_months) <= $business_date
        and monitored.income_per_capita_yuan >= $monitoring_line
        and open_alerts.household_id is null
        and quiet_findings.household_id is null
)

select * from final
order by township_code, village_code, household_id
