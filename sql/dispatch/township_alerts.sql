-- One row per open alert, with what a grid worker needs to find the household and who is
-- responsible at each level of the grid; in township, village, household and category order.
with alerts as (
    select * from alerts.open_alerts
),

households as (
    select * from staging.cur_households
),

grids as (
    select * from staging.cur_grids
),

final as (
    select
        alerts.alert_id,
        alerts.township_code,
        households.township_name,
        alerts.village_code,
        households.village_name,
        village_grids.worker_name as village_head,
        village_grids.phone as village_head_phone,
        alerts.grid_id,
        group_grids.grid_name,
        group_grids.worker_name as grid_worker,
        group_grids.phone as grid_worker_phone,
        alerts.household_id,
        households.head_name,
        households.head_id_number,
        households.phone as household_phone,
        households.household_type,
        alerts.category,
        alerts.grade,
        alerts.status,
        alerts.first_raised,
        alerts.last_updated,
        alerts.verify_by,
        alerts.reasons
    from alerts
    left join households on alerts.household_id = households.household_id
    left join grids as village_grids on alerts.village_code = village_grids.grid_id
    left join grids as group_grids on alerts.grid_id = group_grids.grid_id
    order by alerts.township_code, alerts.village_code, alerts.household_id, alerts.category
)

select * from final
