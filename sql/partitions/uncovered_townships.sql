-- Townships of the registry in force whose villages no partition owns: their households
-- would raise no alert anywhere, so a partitioned run refuses to start.
with households as (
    select
        township_code,
        township_name,
        village_code
    from district.staging.cur_households
),

uncovered as (
    select *
    from households
    where not exists (
            select 1 from scope.prefixes
            where starts_with(households.village_code, prefixes.prefix)
        )
),

final as (
    select
        township_code,
        any_value(township_name) as township_name,
        count(*) as households
    from uncovered
    group by township_code
    order by township_code
)

select * from final
