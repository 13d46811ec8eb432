-- One row per member of a monitored household whose row in the enrolment list in force was
-- quarantined (an ID number sent as a number, a missing name): a data fault, never an alert.
with quarantined_in_force as (
    select
        json_extract_string(raw, '$.姓名') as name,
        upper(regexp_replace(json_extract_string(raw, '$.身份证号'), '[^0-9Xx]', '', 'g')) as id_digits
    from meta.quarantine
    where feed = 'med_enrollment'
        and delivery_date = (
            select max(delivery_date) from meta.deliveries
            where feed = 'med_enrollment'
        )
),

monitored_people as (
    select
        people.id_number,
        members.name
    from signals.int_people as people
    inner join staging.cur_members as members on people.id_number = members.id_number
    inner join signals.int_households as households on people.household_id = households.household_id
    where households.is_monitored
),

-- Three equi-joins, not one join on their OR: a join on an OR compares every quarantined row
-- with every monitored person (92 s for a district of a million households, 0.3 s this way).
by_whole_id as (
    select monitored_people.id_number
    from monitored_people
    inner join quarantined_in_force on monitored_people.id_number = quarantined_in_force.id_digits
),

-- the first 15 digits that survive a float, with the same name (or none)
by_first_15_digits as (
    select monitored_people.id_number
    from monitored_people
    inner join quarantined_in_force
        on left(quarantined_in_force.id_digits, 15) = left(monitored_people.id_number, 15)
    where coalesce(quarantined_in_force.name, monitored_people.name) = monitored_people.name
),

-- the name with the area and birth year (an impossible date)
by_name_and_area as (
    select monitored_people.id_number
    from monitored_people
    inner join quarantined_in_force
        on monitored_people.name = quarantined_in_force.name
            and left(quarantined_in_force.id_digits, 10) = left(monitored_people.id_number, 10)
),

final as (
    select distinct matched.id_number
    from (
        select id_number from by_whole_id
        union all
        select id_number from by_first_15_digits
        union all
        select id_number from by_name_and_area
    ) as matched
)

select * from final
