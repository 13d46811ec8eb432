-- One row per lead of the business date (for linkage.lead_matches): how it was matched, or why it was not. Reads the
-- leads (signals.int_lead_inputs) and the scored candidate pairs of the linkage
-- (signals.int_lead_pairs: lead_id, id_number, match_probability). A lead is matched by a
-- registered member's full ID number, else by the one candidate at or above
-- $lead__match_probability; with two or more such candidates it is ambiguous.
with pairs as (
    select
        pairs.lead_id,
        pairs.id_number,
        pairs.match_probability,
        people.household_id,
        row_number() over (
            partition by pairs.lead_id order by pairs.match_probability desc, pairs.id_number
        ) as rank
    from signals.int_lead_pairs as pairs
    inner join signals.int_people as people on pairs.id_number = people.id_number
),

above as (
    select
        lead_id,
        count(*) as above_threshold,
        min(id_number) as id_number,
        min(household_id) as household_id,
        max(match_probability) as match_probability
    from pairs
    where match_probability >= $lead__match_probability
    group by lead_id
),

candidates as (
    select
        lead_id,
        string_agg(
            printf('%s（%s，户编号%s，匹配概率%.3f）', members.name, mask_id(pairs.id_number), pairs.household_id, pairs.match_probability),
            '；' order by pairs.rank
        ) as candidates
    from pairs
    inner join staging.cur_members as members on pairs.id_number = members.id_number
    where pairs.rank <= $lead__listed_candidates
    group by lead_id
),

townships as (
    select
        township_key(township_name) as township,
        min(township_code) as township_code,
        min(township_name) as township_name
    from signals.int_households
    group by township_key(township_name)
),

best as (
    select
        lead_id,
        max(match_probability) as match_probability
    from pairs
    group by lead_id
),

final as (
    select
        $business_date::date as business_date,
        leads.lead_id,
        leads.source,
        leads.registered_on,
        leads.summary,
        leads.person_name,
        leads.id_text,
        leads.phone,
        leads.township_said,
        leads.village_said,
        townships.township_code,
        townships.township_name,
        case
            when leads.id_number_matched is not null then 'matched'
            when leads.township_unknown then 'township_unknown'
            when above.above_threshold = 1 then 'matched'
            when above.above_threshold > 1 then 'ambiguous'
            else 'unmatched'
        end as status,
        case
            when leads.id_number_matched is not null then 'id_number'
            when not leads.township_unknown and above.above_threshold = 1 then 'linkage'
        end as matched_by,
        case
            when leads.id_number_matched is not null then leads.household_id_matched
            when not leads.township_unknown and above.above_threshold = 1 then above.household_id
        end as household_id,
        case
            when leads.id_number_matched is not null then leads.id_number_matched
            when not leads.township_unknown and above.above_threshold = 1 then above.id_number
        end as id_number,
        case
            when leads.id_number_matched is not null then 1.0
            else coalesce(above.match_probability, best.match_probability)
        end as match_probability,
        coalesce(above.above_threshold, 0) as candidates_above_threshold,
        case
            when leads.id_number_matched is not null then null
            else candidates.candidates
        end as candidates
    from signals.int_lead_inputs as leads
    left join above on leads.lead_id = above.lead_id
    left join candidates on leads.lead_id = candidates.lead_id
    left join best on leads.lead_id = best.lead_id
    left join townships on leads.township = townships.township
)

select * from final
