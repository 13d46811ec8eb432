-- fpwarn_assistance_cases: every assistance case as it stood on the business date, one row per
-- case, closed ones too (the BI tool sees a case close instead of vanish), with the number of
-- measures recorded by then (docs/assistance.md, "The assistance ledger").
with cases as (
    select * from assistance.snapshots
    where as_of_date = $business_date
),

measures as (
    select
        case_id,
        count(*) as measures
    from assistance.measures
    where recorded_date <= $business_date
    group by case_id
),

final as (
    select
        cases.case_id,
        cases.household_id,
        cases.township_code,
        cases.village_code,
        cases.categories,
        cases.confirmed_date,
        cases.due_by,
        cases.status,
        cases.contact,
        cases.contact_unit,
        coalesce(measures.measures, 0) as measures,
        cases.in_place_date,
        cases.closed_date,
        cases.close_cause,
        cases.as_of_date
    from cases
    left join measures on cases.case_id = measures.case_id
    order by cases.case_id
)

select * from final
