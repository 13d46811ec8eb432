-- fpwarn_alert_events: the history of every alert up to and including the business date.
-- Events dated later (a warehouse that has already run later dates) are left out, so the
-- publication of a date does not depend on when it is made.
with events as (
    select
        alert_id,
        event_date,
        sequence,
        event,
        grade,
        cause
    from alerts.events
    where event_date <= $business_date
),

final as (
    select *
    from events
    order by alert_id, event_date, sequence
)

select * from final
