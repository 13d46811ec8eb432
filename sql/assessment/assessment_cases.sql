-- One row per assistance case due in the period ($period_first to $period_last, due_by in
-- it) whose outcome is settled as of $business_date: help in place within its deadline, in
-- place late, or overdue (docs/assistance.md, "Assessment").
with cases as (
    select
        case_id,
        township_code,
        village_code,
        due_by,
        status,
        in_place_date,
        closed_date
    from assistance.cases
    where due_by between $period_first and $period_last
),

judged as (
    select
        case_id,
        township_code,
        village_code,
        due_by,
        in_place_date,
        case
            when in_place_date <= due_by then 'on_time'
            when in_place_date <= $period_last then 'late'
            -- closed (the household marked 已消除) by its deadline without help in place:
            -- nothing was left to put in place
            when status = 'closed' and in_place_date is null and closed_date <= due_by then null
            -- not in place by the end of the period; one due on the business date itself
            -- is not late yet
            when due_by < $business_date then 'overdue'
        end as outcome
    from cases
),

final as (
    select
        case_id,
        township_code,
        village_code,
        due_by,
        in_place_date,
        outcome
    from judged
    where outcome is not null
)

select * from final
order by township_code, village_code, case_id
