-- One row per status of the assistance cases (awaiting, in_place, overdue, closed): how many
-- cases have it after the run (docs/assistance.md, "Assessment").
with cases as (
    select status
    from assistance.cases
),

final as (
    select
        status,
        count(*) as cases
    from cases
    group by status
)

select * from final
order by status
