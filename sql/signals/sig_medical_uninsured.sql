-- One row per monitored household with a member who has no 正常参保 row for the year (未参保).
-- Not applied while no list for the year has arrived; a member whose row was quarantined
-- (int_enrolment_quarantined_members) is a data fault, not an uninsured person.
with enrolment as (
    select * from staging.cur_med_enrollment
    where insurance_year = year($business_date::date)
),

list_arrived as (
    select count(*) > 0 as has_list from enrolment
),

monitored_people as (
    select
        people.*,
        people.relation as member_relation
    from signals.int_people as people
    inner join signals.int_households as households on people.household_id = households.household_id
    where households.is_monitored
),

uninsured as (
    select
        monitored_people.household_id,
        monitored_people.member_relation,
        coalesce(enrolment.insurance_status, '不在参保名单中') as insurance_status,
        (select max(delivery_date) from staging.cur_med_enrollment) as list_date
    from monitored_people
    left join enrolment on monitored_people.id_number = enrolment.id_number
    where coalesce(enrolment.insurance_status, '') <> '正常参保'
        -- Their row was quarantined: a data fault to report, not an uninsured person.
        and monitored_people.id_number not in (
            select id_number from signals.int_enrolment_quarantined_members
        )
),

final as (
    select
        household_id,
        'medical_uninsured' as category,
        'orange' as base_grade,
        max(list_date) as evidence_date,
        printf(
            '区医疗保障局%d年度参保名单：%d名家庭成员无正常参保记录（%s）',
            year($business_date::date),
            count(*),
            string_agg(member_relation || '：' || insurance_status, '，' order by member_relation, insurance_status)
        ) as reason
    from uninsured
    where (select has_list from list_arrived)
    group by household_id
)

select * from final
