-- One row per person compared for an authorised application of the business date: the
-- applicant, and every other member of the household when it is in the registry.
-- Authorised applications only: nothing after this step can reach the department data
-- of an application without a signed authorisation.
with authorised as (
    select * from comparisons.int_applications
    where is_authorised
),

applicants as (
    select
        application_id,
        business_date,
        township_code,
        village_code,
        household_id,
        applicant_id_number as id_number,
        '申请人' as person_role,
        0 as role_order
    from authorised
),

members as (
    select
        authorised.application_id,
        authorised.business_date,
        authorised.township_code,
        authorised.village_code,
        authorised.household_id,
        members.id_number,
        -- Findings name a member by relation (与户主关系), never by name or ID number.
        members.relation as person_role,
        coalesce(
            list_position(
                ['户主', '配偶', '之子', '之女', '之儿媳', '之女婿', '之孙子', '之孙女', '之父', '之母', '之兄弟姐妹', '其他'],
                members.relation
            ),
            99
        ) as role_order
    from authorised
    inner join staging.cur_members as members on authorised.household_id = members.household_id
    where authorised.is_registered
        and members.id_number <> authorised.applicant_id_number
),

final as (
    select * from applicants
    union all
    select * from members
)

select * from final
