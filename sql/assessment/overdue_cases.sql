-- One row per village with assistance cases overdue on $business_date (no help in place
-- after due_by): how many and the longest overdue, for the township heads to follow up; no
-- household is named (docs/assistance.md, "Assessment").
with cases as (
    select
        township_code,
        village_code,
        due_by
    from assistance.cases
    where status = 'overdue'
),

households as (
    select
        township_code,
        township_name,
        village_code,
        village_name
    from staging.cur_households
),

villages as (
    select
        village_code,
        min(township_name) as township_name,
        min(village_name) as village_name
    from households
    group by village_code
),

final as (
    select
        cases.township_code,
        villages.township_name,
        cases.village_code,
        villages.village_name,
        count(*) as overdue_cases,
        max(date_diff('day', cases.due_by, $business_date::date)) as most_days_overdue
    from cases
    left join villages on cases.village_code = villages.village_code
    group by cases.township_code, villages.township_name, cases.village_code, villages.village_name
)

select * from final
order by township_code, village_code
