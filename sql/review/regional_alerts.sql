-- fpwarn_regional_alerts: the regional warnings (防止规模性返贫) as they stood on the
-- business date, one row per warning; a warning whose condition ended shows closed.
with snapshot as (
    select *
    from alerts.regional_snapshots
    where as_of_date = $business_date
),

final as (
    select
        regional_id,
        scope,
        scope_code,
        township_code,
        village_code,
        scope_name,
        rule,
        category,
        status,
        first_raised,
        last_updated,
        figure,
        reason,
        as_of_date
    from snapshot
    order by regional_id
)

select * from final
