-- One row per alert due for verification in the period ($period_first to $period_last,
-- verify_by in it) whose outcome is settled as of $business_date: verified on time,
-- verified late, or overdue (docs/assistance.md, "Assessment").
with alerts as (
    select
        alert_id,
        township_code,
        village_code,
        first_raised,
        verify_by,
        status,
        closed_date,
        coalesce(close_cause like '核实%', false) as is_verified
    from alerts.alerts
    where verify_by between $period_first and $period_last
),

judged as (
    select
        alert_id,
        township_code,
        village_code,
        first_raised,
        verify_by,
        -- the verifications of the period, those whose time to verify counts
        case when is_verified and closed_date <= $period_last then closed_date end as verified_date,
        case
            when is_verified and closed_date <= verify_by then 'on_time'
            when is_verified and closed_date <= $period_last then 'late'
            -- closed without a verification (evidence withdrawn) by its deadline: nothing
            -- was left to verify
            when status = 'closed' and not is_verified and closed_date <= verify_by then null
            -- not verified by the end of the period; one due on the business date itself
            -- and not verified yet is not late yet
            when verify_by < $business_date then 'overdue'
        end as outcome
    from alerts
),

final as (
    select
        alert_id,
        township_code,
        village_code,
        first_raised,
        verify_by,
        verified_date,
        outcome
    from judged
    where outcome is not null
)

select * from final
order by township_code, village_code, alert_id
