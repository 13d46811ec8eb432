-- One row per category and township with alerts verified in the last
-- $precision__window_days days up to $business_date (by verification date): the results
-- the grid returned (docs/assistance.md, "Rule precision").
with verified as (
    select
        category,
        township_code,
        close_result
    from alerts.alerts
    where close_cause like '核实%'
        and closed_date > $business_date - $precision__window_days
        and closed_date <= $business_date
),

households as (
    select
        township_code,
        township_name
    from staging.cur_households
),

townships as (
    select
        township_code,
        min(township_name) as township_name
    from households
    group by township_code
),

final as (
    select
        verified.category,
        verified.township_code,
        townships.township_name,
        count(*) as verified,
        count(*) filter (where verified.close_result like '属实%') as found_true,
        count(*) filter (where verified.close_result = '不属实') as not_true,
        count(*) filter (where verified.close_result = '风险已消除') as risk_eliminated
    from verified
    left join townships on verified.township_code = townships.township_code
    group by verified.category, verified.township_code, townships.township_name
)

select * from final
order by category, township_code
