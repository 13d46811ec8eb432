-- The alerts open after a run: one row per alert, as alerts.csv shows them.
with alerts as (
    select * from alerts.open_alerts
),

final as (
    select
        alert_id,
        household_id,
        township_code,
        village_code,
        grid_id,
        category,
        grade,
        status,
        first_raised,
        last_updated,
        verify_by,
        reasons
    from alerts
    order by township_code, village_code, household_id, category
)

select * from final
