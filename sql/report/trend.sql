-- Open and new alerts on each business date of the trend window, from the state kept per date.
with window_dates as (
    -- distinct: a partitioned district reads every partition's runs as one table
    select distinct as_of_date
    from alerts.runs
    where as_of_date > $business_date - $trend_days and as_of_date <= $business_date
),

snapshots as (
    select
        as_of_date,
        status,
        grade,
        first_raised
    from alerts.snapshots
    where as_of_date > $business_date - $trend_days and as_of_date <= $business_date
),

final as (
    select
        window_dates.as_of_date,
        count(snapshots.status) filter (where alerts.is_open(snapshots.status)) as open_alerts,
        count(snapshots.status) filter (where snapshots.first_raised = window_dates.as_of_date) as new_alerts,
        count(snapshots.status) filter (where snapshots.status = 'escalated') as escalated_alerts
    from window_dates
    left join snapshots on window_dates.as_of_date = snapshots.as_of_date
    group by window_dates.as_of_date
)

select * from final
order by as_of_date
