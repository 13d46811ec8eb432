-- fpwarn_alerts: every alert as it stood on the business date, one row per alert. Closed
-- alerts are in the snapshot too, so the BI tool sees an alert close instead of vanish.
-- The columns are the alert's (alerts.snapshots) and as_of_date.
select *
from alerts.snapshots
where as_of_date = $business_date
order by alert_id
