-- One row per application received for the business date (its delivery was loaded by that
-- date's run: on time, late or corrected), with where it is reviewed.
-- An application without a signed authorisation (已签承诺授权书 not 是) keeps only its id and
-- the codes of the village that received it: not even its household is looked up.
with received_today as (
    select
        application_id,
        household_id,
        applicant_id_number,
        village_code,
        has_signed_authorisation
    from staging.stg_applications
    where loaded_for_date = $business_date::date
    -- A late and a current delivery may both hold an application: the newest copy counts,
    -- and it is judged for authorisation before anything else is read.
    qualify row_number() over (
            partition by application_id order by delivery_date desc, source_row desc
        ) = 1
),

authorised as (
    select
        application_id,
        household_id,
        applicant_id_number,
        village_code
    from received_today
    where has_signed_authorisation = '是'
),

unauthorised as (
    select
        application_id,
        village_code
    from received_today
    where has_signed_authorisation is distinct from '是'
),

registered_households as (
    select
        household_id,
        township_code,
        village_code
    from staging.cur_households
),

registered_people as (
    select
        id_number,
        household_id
    from staging.cur_members
),

placed as (
    select
        authorised.application_id,
        authorised.applicant_id_number,
        authorised.household_id as stated_household_id,
        authorised.village_code as application_village_code,
        -- The household named on the application when registered, else the applicant's own.
        coalesce(named.household_id, own.household_id) as registered_household_id
    from authorised
    left join registered_households as named on authorised.household_id = named.household_id
    left join registered_people as own on authorised.applicant_id_number = own.id_number
),

final as (
    select
        placed.application_id,
        $business_date::date as business_date,
        true as is_authorised,
        placed.registered_household_id is not null as is_registered,
        -- 12-digit village code = 9-digit township code + 3 digits
        coalesce(registered_households.township_code, left(placed.application_village_code, 9)) as township_code,
        coalesce(registered_households.village_code, placed.application_village_code) as village_code,
        coalesce(placed.registered_household_id, placed.stated_household_id) as household_id,
        placed.applicant_id_number
    from placed
    left join registered_households on placed.registered_household_id = registered_households.household_id

    union all

    select
        application_id,
        $business_date::date as business_date,
        false as is_authorised,
        false as is_registered,
        left(village_code, 9) as township_code,
        village_code,
        null as household_id,
        null as applicant_id_number
    from unauthorised
)

select * from final
