-- One row per measure recorded for an assistance case not closed, in case and recording order:
-- the 帮扶台账 sheet lists them under their case.
with cases as (
    select case_id from assistance.cases
    where status <> 'closed'
),

measures as (
    select * from assistance.measures
),

final as (
    select
        measures.case_id,
        measures.sequence,
        measures.measure_type,
        measures.content,
        measures.put_in_place_date,
        measures.contact,
        measures.contact_unit
    from measures
    inner join cases on measures.case_id = cases.case_id
    order by measures.case_id, measures.sequence
)

select * from final
