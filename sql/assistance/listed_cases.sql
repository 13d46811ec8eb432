-- One row per assistance case open after the run, or closed in the last
-- $assistance__listed_after_closing_days days, as assistance.csv lists them; its measures
-- as 类别：内容（落实日期）, joined by ；, in recording order.
with cases as (
    select * from assistance.cases
    where status <> 'closed'
        or closed_date > $business_date::date - $assistance__listed_after_closing_days::integer
),

measures as (
    select
        case_id,
        count(*) as measure_count,
        string_agg(
            measure_type
            || case when coalesce(content, '') = '' then '' else '：' || content end
            || '（' || strftime(put_in_place_date, '%Y-%m-%d') || '）',
            '；'
            order by sequence
        ) as measures
    from assistance.measures
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
        cases.contact is not null as has_contact,
        coalesce(measures.measure_count, 0) as measure_count,
        coalesce(measures.measures, '') as measures,
        cases.in_place_date,
        cases.closed_date,
        case
            when cases.status = 'overdue' then date_diff('day', cases.due_by, $business_date::date)
            else 0
        end as days_overdue
    from cases
    left join measures on cases.case_id = measures.case_id
    order by cases.township_code, cases.village_code, cases.household_id, cases.case_id
)

select * from final
