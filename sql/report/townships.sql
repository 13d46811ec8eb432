-- The district's townships with their names, for the report's tables and charts.
with households as (
    select
        township_code,
        township_name
    from signals.int_households
),

final as (
    select
        township_code,
        any_value(township_name) as township_name,
        count(*) as households
    from households
    group by township_code
)

select * from final
order by township_code
