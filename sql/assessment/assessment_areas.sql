-- The rows of the assessment: one row per village of the household registry in force, with
-- its township and their names (docs/assistance.md, "Assessment").
with households as (
    select
        township_code,
        township_name,
        village_code,
        village_name
    from staging.cur_households
),

final as (
    select
        township_code,
        min(township_name) as township_name,
        village_code,
        min(village_name) as village_name
    from households
    group by township_code, village_code
)

select * from final
order by township_code, village_code
