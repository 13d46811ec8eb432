-- The group grids (组级) that sent no monthly report (网格员月报) for a month whose deadline,
-- day $assessment__grid_reports_due_day of the next month, falls in the period and has come
-- by the business date: no row of grid_reports for the month (by 上报日期, a 无异常 row
-- counts) delivered by the deadline. One row per grid and month (docs/assistance.md,
-- "Assessment").
with months as (
    select
        unnest(generate_series(
            date_trunc('month', $period_first::date) - interval 1 month,
            date_trunc('month', $period_last::date),
            interval 1 month
        ))::date as month_first
),

deadlines as (
    select
        month_first,
        (month_first + interval 1 month + to_days($assessment__grid_reports_due_day - 1))::date as due_date
    from months
),

due as (
    select *
    from deadlines
    where due_date between $period_first::date and least($period_last::date, $business_date::date)
),

group_grids as (
    select
        grid_id,
        grid_name,
        parent_grid_id as village_code
    from staging.cur_grids
    where grid_level = '组级'
),

areas as (
    select
        village_code,
        min(township_code) as township_code,
        min(township_name) as township_name,
        min(village_name) as village_name
    from staging.cur_households
    group by village_code
),

village_grids as (
    select
        grid_id as village_code,
        parent_grid_id as township_code
    from staging.cur_grids
    where grid_level = '村级'
),

reports as (
    select
        grid_id,
        report_date,
        delivery_date
    from staging.stg_grid_reports
),

final as (
    select
        coalesce(areas.township_code, village_grids.township_code) as township_code,
        areas.township_name,
        group_grids.village_code,
        areas.village_name,
        group_grids.grid_id,
        group_grids.grid_name,
        strftime(due.month_first, '%Y-%m') as report_month,
        due.due_date
    from group_grids
    cross join due
    left join areas on group_grids.village_code = areas.village_code
    left join village_grids on group_grids.village_code = village_grids.village_code
    where not exists (
            select 1
            from reports
            where reports.grid_id = group_grids.grid_id
                and reports.report_date >= due.month_first
                and reports.report_date < due.month_first + interval 1 month
                and reports.delivery_date <= due.due_date
        )
)

select * from final
order by township_code, village_code, grid_id, report_month
