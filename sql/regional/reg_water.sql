-- Drinking-water problems affecting many households, not restored on the business date.
with villages as (
    select
        township_code,
        village_code,
        any_value(village_name) as village_name
    from signals.int_households
    group by township_code, village_code
),

large_problems as (
    select *
    from staging.cur_water_supply
    where households_affected >= $regional__water__households
        and start_date <= $business_date
        and (restored_date is null or restored_date > $business_date)
),

final as (
    select
        'village' as scope,
        large_problems.village_code as scope_code,
        coalesce(villages.township_code, substr(large_problems.village_code, 1, 9)) as township_code,
        large_problems.village_code,
        department_text(coalesce(villages.village_name, large_problems.village_code)) as scope_name,
        'water' as rule,
        'water_unsafe' as category,
        large_problems.households_affected as figure,
        null::bigint as scope_households,
        large_problems.start_date as evidence_date,
        department_text(large_problems.project_name) || large_problems.problem_type || '（问题编号' || large_problems.problem_id
        || '，' || large_problems.start_date::varchar || '起，已'
        || ($business_date - large_problems.start_date)::varchar || '天，影响'
        || large_problems.households_affected || '户）' as detail
    from large_problems
    left join villages on large_problems.village_code = villages.village_code
)

select * from final
