-- One row per person listed as a member of exactly one household in force, with age and labour:
-- a labourer (劳动力, docs/warning-rules.md, "Words used here") is of working age at the
-- business date with a labour skill the rules count.
with members as (
    select * from staging.cur_members
),

households as (
    select household_id from signals.int_households
),

listed as (
    select
        members.id_number,
        members.household_id,
        members.relation,
        members.labour_skill,
        members.health,
        strptime(substr(members.id_number, 7, 8), '%Y%m%d')::date as birth_date
    from members
    inner join households on members.household_id = households.household_id
),

aged as (
    select
        *,
        date_diff('year', birth_date, $business_date::date)
        - case when strftime($business_date::date, '%m%d') < strftime(birth_date, '%m%d') then 1 else 0 end
            as age_years
    from listed
),

final as (
    select
        id_number,
        household_id,
        relation,
        labour_skill,
        health,
        birth_date,
        age_years,
        coalesce(
            age_years between $labourer__min_age and $labourer__max_age
            and list_contains($labourer__skills, labour_skill),
            false
        ) as is_labourer
    from aged
)

select * from final
