-- The business date's leads per source (来源), by what the linkage decided for each
-- (docs/warning-rules.md, "群众反映线索"): one row per lead and date in
-- linkage.lead_matches, a table of the district warehouse or a view of it. Counts only:
-- no name, number or place leaves this step.
with day_leads as (
    select
        coalesce(nullif(trim(source), ''), '未注明') as source,
        status,
        matched_by
    from linkage.lead_matches
    where business_date = $business_date
    union all
    -- The day's leads quarantined (a township the district does not have, a lead without a
    -- name…): never linked, counted by the 来源 they were sent with.
    select
        coalesce(nullif(trim(raw ->> '来源'), ''), '未注明') as source,
        'quarantined' as status,
        null as matched_by
    from meta.quarantine
    where feed = 'leads' and delivery_date = $business_date
),

final as (
    select
        source,
        count(*) as leads,
        count(*) filter (where status = 'matched') as matched,
        count(*) filter (
            where status = 'matched' and matched_by = 'id_number'
        ) as matched_by_id_number,
        count(*) filter (where status = 'matched' and matched_by = 'linkage') as matched_by_linkage,
        count(*) filter (where status = 'ambiguous') as ambiguous,
        count(*) filter (where status = 'unmatched') as unmatched,
        count(*) filter (where status = 'quarantined') as quarantined
    from day_leads
    group by source
)

select * from final
order by source
