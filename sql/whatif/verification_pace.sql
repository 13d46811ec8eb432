-- Per township: alerts verified on the ground in the last $pace_days days up to the
-- business date, the grid's current pace for the what-if's workload.
with verified as (
    select township_code
    from alerts.alerts
    where close_cause like '核实%'
        and closed_date > $business_date - $pace_days
        and closed_date <= $business_date
),

final as (
    select
        township_code,
        count(*) as verified
    from verified
    group by township_code
)

select * from final
