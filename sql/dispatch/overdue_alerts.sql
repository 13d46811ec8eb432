-- One row per alert whose verification is overdue (escalated), with the township head who
-- follows it up: the district's list of who is behind.
with alerts as (
    select * from alerts.alerts
    where status = 'escalated'
),

township_heads as (
    select
        grid_id as township_code,
        grid_name,
        worker_name
    from staging.cur_grids
    where grid_level = '乡镇级'
),

final as (
    select
        alerts.township_code,
        township_heads.grid_name as township_grid,
        township_heads.worker_name as township_head,
        alerts.alert_id,
        alerts.household_id,
        alerts.village_code,
        alerts.grid_id,
        alerts.category,
        alerts.grade,
        alerts.first_raised,
        alerts.verify_by,
        date_diff('day', alerts.verify_by, $business_date::date) as days_overdue
    from alerts
    left join township_heads on alerts.township_code = township_heads.township_code
    order by alerts.township_code, days_overdue desc, alerts.alert_id
)

select * from final
