-- "Open", defined once: an alert still to be verified on the ground, new, open or overdue
-- (escalated); closed is the only other status (pipeline/vocabulary.py, AlertStatus).
-- Every step that needs the open alerts reads alerts.open_alerts, or is_open for the
-- snapshots of earlier dates.
create or replace macro alerts.is_open(status) as status in ('new', 'open', 'escalated');

create or replace view alerts.open_alerts as
select *
from alerts.alerts
where alerts.is_open(status);
