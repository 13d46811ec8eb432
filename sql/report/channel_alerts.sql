-- Per category, for the section 发现渠道 of the report: the alerts first raised on the
-- business date (those verified or withdrawn the same day included, as the trend counts
-- them) and the alerts open after its run. The channel of each category is a setting of
-- the rules (docs/warning-rules.md, "Categories"), added to these rows by the report.
with day_alerts as (
    select
        category,
        status,
        first_raised
    from alerts.snapshots
    where as_of_date = $business_date
),

final as (
    select
        category,
        count(*) filter (where first_raised = $business_date) as raised,
        count(*) filter (where alerts.is_open(status)) as open
    from day_alerts
    group by category
)

select * from final
order by category
