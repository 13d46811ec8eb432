-- One row per household of the registry in force, with the facts every rule needs.
with households as (
    select * from staging.cur_households
),

group_grids as (
    select
        grid_id,
        parent_grid_id
    from staging.cur_grids
    where grid_level = '组级'
),

final as (
    select
        households.household_id,
        households.head_id_number,
        households.township_code,
        households.township_name,
        households.village_code,
        households.village_name,
        households.household_type,
        households.monitoring_type,
        households.risk_status,
        households.monitoring_since,
        households.household_size,
        households.net_income_last_year_yuan,
        households.grid_id as registered_grid_id,
        households.delivery_date as registry_date,
        -- A household whose grid is unknown or broken goes to its village head.
        coalesce(group_grids.grid_id, households.village_code) as grid_id,
        group_grids.grid_id is null as has_grid_fault,
        households.net_income_last_year_yuan / nullif(households.household_size, 0) as income_per_capita_yuan,
        households.household_type = '脱贫户'
        or (households.household_type = '监测户' and coalesce(households.risk_status, '未消除') = '未消除')
            as is_monitored,
        households.net_income_last_year_yuan / nullif(households.household_size, 0)
        < $near_line_factor * $monitoring_line as is_near_line
    from households
    left join group_grids
        on households.grid_id = group_grids.grid_id
            and households.village_code = group_grids.parent_grid_id
)

select * from final
