-- One row per monitored household with a member who has no 正常参保 row for the year (未参保).
-- Not applied while no list for the year has arrived; a member whose row was quarantined
-- (an ID number that arrived as a number) is a data fault, not an uninsured person.
with enrolment as (
    select * from staging.cur_med_enrollment
    where insurance_year = year($business_date::date)
),

list_arrived as (
    select count(*) > 0 as has_list from enrolment
),

quarantined_in_force as (
    select
        json_extract_string(raw, '$.姓名') as name,
        -- The first 14 digits survive a float; the rest are gone.
        left(regexp_replace(json_extract_string(raw, '$.身份证号'), '[^0-9]', '', 'g'), 14) as id_prefix
    from meta.quarantine
    where feed = 'med_enrollment'
        and delivery_date = (select max(delivery_date) from meta.deliveries where feed = 'med_enrollment')
),

people as (
    select people.*, members.name, members.relation as member_relation
    from signals.int_people as people
    inner join staging.cur_members as members on people.id_number = members.id_number
),

monitored_people as (
    select people.*
    from people
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
        and not exists (
            select 1 from quarantined_in_force
            where quarantined_in_force.name = monitored_people.name
                and quarantined_in_force.id_prefix = left(monitored_people.id_number, 14)
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
