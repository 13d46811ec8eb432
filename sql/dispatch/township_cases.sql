-- One row per assistance case not closed, with what the township's 帮扶台账 sheet shows of its
-- household and who follows it up; in township, village, household and case order.
with cases as (
    select * from assistance.cases
    where status <> 'closed'
),

households as (
    select * from staging.cur_households
),

grids as (
    select * from staging.cur_grids
),

final as (
    select
        cases.case_id,
        cases.township_code,
        households.township_name,
        cases.village_code,
        households.village_name,
        village_grids.worker_name as village_head,
        cases.household_id,
        households.head_name,
        households.head_id_number,
        households.phone as household_phone,
        cases.categories,
        cases.confirmed_date,
        cases.due_by,
        cases.status,
        cases.contact,
        cases.contact_unit,
        case
            when cases.status = 'overdue' then date_diff('day', cases.due_by, $business_date::date)
            else 0
        end as days_overdue
    from cases
    left join households on cases.household_id = households.household_id
    left join grids as village_grids on cases.village_code = village_grids.grid_id
    order by cases.township_code, cases.village_code, cases.household_id, cases.case_id
)

select * from final
