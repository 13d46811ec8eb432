-- The leads delivered for the business date, as the linkage compares them. 身份证号 is what
-- the caller gave: a full number that is a registered member's is used as it is (a 15-digit
-- one, or one whose check digit is wrong, when its first 17 digits are one member's); of a
-- partial one, the area code (its first six digits) and the birth year (digits 7 to 10)
-- when they are there and plausible.
with delivered as (
    select
        *,
        upper(spaceless(id_text)) as id_clean
    from staging.cur_leads
    where delivery_date = $business_date::date
),

-- A first-generation (15-digit) number is the 18-digit one without the century and the
-- check digit: its first 17 digits are the area, 19, and the rest.
leads as (
    select
        *,
        case
            when regexp_matches(id_clean, '^\d{18}$|^\d{17}X$') then left(id_clean, 17)
            when regexp_matches(id_clean, '^\d{15}$')
                then left(id_clean, 6) || '19' || substr(id_clean, 7, 9)
        end as id_first17,
        case
            when regexp_matches(id_clean, '^\d{15}$')
                then left(id_clean, 6) || '19' || substr(id_clean, 7, 9)
            else id_clean
        end as id_long
    from delivered
),

by_first17 as (
    select
        left(id_number, 17) as id_first17,
        min(id_number) as id_number,
        min(household_id) as household_id
    from signals.int_people
    group by left(id_number, 17)
    having count(*) = 1
),

townships as (
    select distinct township_key(township_name) as township
    from signals.int_households
    where township_name is not null
),

final as (
    select
        leads.lead_id as unique_id,
        leads.lead_id,
        leads.source,
        leads.registered_on,
        leads.summary,
        leads.phone,
        leads.id_text,
        leads.person_name,
        leads.township_said,
        leads.village_said,
        person_key(leads.person_name) as name,
        left(person_key(leads.person_name), 1) as name_first,
        township_key(leads.township_said) as township,
        village_key(leads.village_said) as village,
        case
            when regexp_matches(leads.id_long, '^\d{10}')
                and substr(leads.id_long, 7, 4)::integer between 1900 and year($business_date::date)
                then substr(leads.id_long, 7, 4)
        end as birth_year,
        case when regexp_matches(leads.id_clean, '^\d{6}') then left(leads.id_clean, 6) end as area_code,
        coalesce(by_id.id_number, by_first17.id_number) as id_number_matched,
        coalesce(by_id.household_id, by_first17.household_id) as household_id_matched,
        township_key(leads.township_said) is not null and townships.township is null as township_unknown
    from leads
    left join signals.int_people as by_id on leads.id_clean = by_id.id_number
    -- a 15-digit number, or an 18-digit one with a wrong check digit, of exactly one member
    left join by_first17
        on by_id.id_number is null
            and length(leads.id_clean) in (15, 18)
            and leads.id_first17 = by_first17.id_first17
    left join townships on township_key(leads.township_said) = townships.township
)

select * from final
