-- The leads delivered for the business date, as the linkage compares them. 身份证号 is what
-- the caller gave: a full number that is a registered member's is used as it is; of a
-- partial one, the area code (its first six digits) and the birth year (digits 7 to 10)
-- when they are there and plausible.
with leads as (
    select
        *,
        upper(spaceless(id_text)) as id_clean
    from staging.cur_leads
    where delivery_date = $business_date::date
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
            when regexp_matches(leads.id_clean, '^\d{10}')
                and substr(leads.id_clean, 7, 4)::integer between 1900 and year($business_date::date)
                then substr(leads.id_clean, 7, 4)
        end as birth_year,
        case when regexp_matches(leads.id_clean, '^\d{6}') then left(leads.id_clean, 6) end as area_code,
        by_id.id_number as id_number_matched,
        by_id.household_id as household_id_matched,
        township_key(leads.township_said) is not null and townships.township is null as township_unknown
    from leads
    left join signals.int_people as by_id on leads.id_clean = by_id.id_number
    left join townships on township_key(leads.township_said) = townships.township
)

select * from final
