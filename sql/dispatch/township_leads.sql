-- The 线索核查 sheet of the township workbooks (docs/outputs.md, "Township workbooks"): the
-- business date's leads (linkage.lead_matches) whose person was not found among the
-- registered members, below the match threshold (unmatched) or with several candidates
-- above it (ambiguous), and whose township is known: one row per lead, for the township
-- that has the households of this connection (a partition's staging.cur_households holds
-- its own townships only, the district's all of them). A matched lead raises an alert; a
-- lead of an unknown township is the bureau's (leads_unmatched.csv has every lead not matched).
-- The candidates listed are the township's own registered members only (a candidate found
-- by name in another township is counted, never named); their ID numbers come masked.
with leads as (
    select *
    from linkage.lead_matches
    where
        business_date = $business_date::date
        and status in ('ambiguous', 'unmatched')
        and township_code in (select township_code from staging.cur_households)
),

-- The candidates as linkage/lead_matches.sql lists them, '；' between them: split only
-- after a candidate's closing '，匹配概率0.950）', so that a name holding '；' stays whole.
split as (
    select
        lead_id,
        township_code,
        string_split(
            regexp_replace(candidates, '(，匹配概率[0-9.]+）)；', '\1' || chr(31), 'g'), chr(31)
        ) as parts
    from leads
    where candidates is not null and candidates <> ''
),

candidates as (
    select
        lead_id,
        township_code,
        candidate,
        position,
        regexp_extract(candidate, '，户编号([^，]*)，匹配概率[0-9.]+）$', 1) as household_id
    from (
        select
            lead_id,
            township_code,
            unnest(parts) as candidate,
            generate_subscripts(parts, 1) as position
        from split
    ) as unnested
),

judged as (
    select
        candidates.*,
        exists(
            select 1
            from staging.cur_households as households
            where
                households.household_id = candidates.household_id
                and households.township_code = candidates.township_code
        ) as is_own
    from candidates
),

listed as (
    select
        lead_id,
        string_agg(candidate, '；' order by position) filter (where is_own) as candidates,
        count(*) filter (where not is_own) as elsewhere
    from judged
    group by lead_id
),

final as (
    select
        leads.lead_id,
        leads.source,
        leads.registered_on,
        leads.person_name,
        leads.id_text,
        leads.village_said,
        leads.phone,
        leads.summary,
        leads.township_code,
        leads.township_name,
        leads.status,
        case leads.status
            when 'ambiguous'
                then printf(
                        '有%d名登记人员匹配概率达到阈值，无法确定是哪一位', leads.candidates_above_threshold
                    )
            else '登记人员中没有达到匹配概率阈值的人员'
        end
        || case
            when coalesce(listed.elsewhere, 0) > 0
                then printf('；另有%d名候选人不在本乡镇，未列出', listed.elsewhere)
            else ''
        end as reason,
        coalesce(listed.candidates, '') as candidates
    from leads
    left join listed on leads.lead_id = listed.lead_id
)

select * from final
order by township_code, village_said nulls last, registered_on nulls last, lead_id
