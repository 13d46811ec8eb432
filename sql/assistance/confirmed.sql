-- One row per alert the grid confirmed at risk (属实-…) in this business date's run: the
-- households whose assistance case opens or grows (docs/assistance.md, "The assistance ledger").
with closed_today as (
    select distinct alert_id
    from alerts.events
    where event_date = $business_date and event = 'closed'
),

alerts as (
    select * from alerts.alerts
),

final as (
    select
        alerts.alert_id,
        alerts.household_id,
        alerts.category,
        alerts.close_result,
        alerts.closed_date as confirmed_date,
        alerts.township_code,
        alerts.village_code
    from alerts
    inner join closed_today on alerts.alert_id = closed_today.alert_id
    where alerts.close_result in (select unnest($confirmed_results::varchar[]))
)

select * from final
order by household_id, confirmed_date, alert_id
