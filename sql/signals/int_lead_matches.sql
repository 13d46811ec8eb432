-- The business date's leads as linked (linkage.lead_matches), for sig_lead: the matched
-- ones of this warehouse's households (a partition's own; in a district run, every one).
select matches.* exclude (matches.business_date)
from linkage.lead_matches as matches
where matches.business_date = $business_date::date
    and (
        matches.household_id is null
        or matches.household_id in (select household_id from signals.int_households)
    )
