-- One row per household of the registry in force among $household_ids (those with a case not
-- closed): whether the registry marks its risk eliminated (风险状态 已消除) and whether it has a
-- labourer (docs/warning-rules.md, "Words used here"), which a case needs to close.
with cases as (
    select distinct unnest($household_ids::varchar[]) as household_id
),

households as (
    select * from signals.int_households
),

labourers as (
    select
        household_id,
        count(*) as labourers
    from signals.int_people
    where is_labourer
    group by household_id
),

final as (
    select
        households.household_id,
        coalesce(households.risk_status, '') = '已消除' as is_eliminated,
        coalesce(labourers.labourers, 0) > 0 as has_labourer
    from households
    inner join cases on households.household_id = cases.household_id
    left join labourers on households.household_id = labourers.household_id
)

select * from final
order by household_id
