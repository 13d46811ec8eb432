-- One row per person and assistance category: the newest change (for each person and
-- category the newest change counts), with the household the person belongs to.
with changes as (
    select * from staging.cur_civil_assistance
),

newest as (
    select *
    from changes
    qualify row_number() over (
            partition by id_number, assistance_type order by change_date desc, delivery_date desc, source_row desc
        ) = 1
),

final as (
    select
        newest.*,
        people.household_id,
        people.relation
    from newest
    inner join signals.int_people as people on newest.id_number = people.id_number
)

select * from final
