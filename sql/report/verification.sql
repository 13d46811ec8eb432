-- Per township: alerts waiting for verification, overdue ones (who is behind), and those
-- verified on the ground within the trend window.
with current_alerts as (
    select
        township_code,
        status,
        verify_by
    from alerts.snapshots
    where as_of_date = $business_date
),

verified as (
    select
        alerts.township_code,
        count(*) as verified
    from alerts.events as events
    inner join alerts.alerts as alerts on events.alert_id = alerts.alert_id
    where events.event = 'closed'
        and events.cause like '核实%'
        and events.event_date > $business_date - $trend_days
        and events.event_date <= $business_date
    group by alerts.township_code
),

final as (
    select
        current_alerts.township_code,
        count(*) filter (where current_alerts.status <> 'escalated') as awaiting,
        count(*) filter (where current_alerts.status = 'escalated') as overdue,
        coalesce(
            max($business_date - current_alerts.verify_by)
            filter (where current_alerts.status = 'escalated'), 0
        ) as most_days_overdue,
        coalesce(any_value(verified.verified), 0) as verified
    from current_alerts
    left join verified on current_alerts.township_code = verified.township_code
    where alerts.is_open(current_alerts.status)
    group by current_alerts.township_code
)

select * from final
order by overdue desc, township_code
