-- One row per household that its group grid worker reported (网格员上报) within the window,
-- in the grid's own words; red for the red types in a monitored household, orange otherwise.
with reports as (
    select * from staging.cur_grid_reports
    where situation_type <> '无异常'
        and household_id is not null
        and report_date between $business_date::date - ($grid_report__window_days - 1) and $business_date::date
),

final as (
    select
        households.household_id,
        'grid_report' as category,
        case
            when households.is_monitored and bool_or(list_contains($grid_report__red_types, reports.situation_type)) then 'red'
            else 'orange'
        end as base_grade,
        max(reports.report_date) as evidence_date,
        '网格员上报：' || string_agg(
            printf(
                '%s%s报“%s”%s', reports.report_date, department_text(reports.reporter), reports.situation_type,
                case when reports.description is not null then '：' || department_text(reports.description) else '' end
            ),
            '；' order by reports.report_date, reports.situation_type
        ) as reason
    from reports
    inner join signals.int_households as households on reports.household_id = households.household_id
    group by households.household_id, households.is_monitored
)

select * from final
