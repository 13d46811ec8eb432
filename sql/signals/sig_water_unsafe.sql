-- One row per monitored household whose village has an open drinking-water problem (饮水安全).
with problems as (
    select * from staging.cur_water_supply
),

open_problems as (
    select
        *,
        date_diff('day', start_date, $business_date::date) as open_days
    from problems
    where start_date <= $business_date::date
        and (restored_date is null or restored_date > $business_date::date)
),

qualifying as (
    select *
    from open_problems
    where (list_contains($water_unsafe__duration_types, problem_type) and open_days >= $water_unsafe__min_open_days)
        or list_contains($water_unsafe__immediate_types, problem_type)
),

per_village as (
    select
        village_code,
        max(open_days) as longest_open_days,
        max(start_date) as evidence_date,
        string_agg(
            printf('%s%s（%s起，已%d天，影响%d户）', department_text(project_name), problem_type, start_date, open_days, households_affected),
            '；' order by start_date, problem_id
        ) as problems_text
    from qualifying
    group by village_code
),

final as (
    select
        households.household_id,
        'water_unsafe' as category,
        case when per_village.longest_open_days >= $water_unsafe__red_open_days then 'red' else 'orange' end as base_grade,
        per_village.evidence_date,
        '区水利局农村供水问题台账：本村' || per_village.problems_text || '，尚未恢复' as reason
    from per_village
    inner join signals.int_households as households on per_village.village_code = households.village_code
    where households.is_monitored
)

select * from final
