-- fpwarn_alerts: every alert as it stood on the business date, one row per alert. Closed
-- alerts are in the snapshot too, so the BI tool sees an alert close instead of vanish.
with snapshot as (
    select *
    from alerts.snapshots
    where as_of_date = $business_date
),

final as (
    select
        alert_id,
        household_id,
        category,
        grade,
        status,
        first_raised,
        last_updated,
        verify_by,
        evidence_date,
        reasons,
        township_code,
        village_code,
        grid_id,
        closed_date,
        close_cause,
        close_result,
        as_of_date
    from snapshot
    order by alert_id
)

select * from final
