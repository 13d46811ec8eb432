-- One row per household that a lead of the business date names (群众反映线索): each matched
-- lead of signals.int_lead_matches (the day's rows of linkage.lead_matches), all of one household's in
-- one reason. Orange, or the grade its source is configured to raise.
with graded as (
    select
        *,
        case source
            when '信访' then $lead__grade_petition
            when '12317' then $lead__grade_hotline
            when '媒体' then $lead__grade_media
            when '舆情' then $lead__grade_opinion
            else $lead__grade_self_declared
        end as source_grade
    from signals.int_lead_matches
    where status = 'matched'
),

matched as (
    select
        *,
        case source_grade when 'red' then 3 when 'yellow' then 1 else 2 end as grade_rank
    from graded
),

final as (
    select
        household_id,
        'lead' as category,
        case max(grade_rank) when 3 then 'red' when 2 then 'orange' else 'yellow' end as base_grade,
        max(registered_on) as evidence_date,
        '群众反映线索：' || string_agg(
            printf(
                '%s于%s登记（线索编号%s）：%s；%s',
                source, registered_on, lead_id, department_text(summary),
                case
                    when matched_by = 'id_number' then '按身份证号匹配到本户成员'
                    else printf('按姓名和村匹配到本户成员（匹配概率%.3f）', match_probability)
                end
            ),
            '；' order by registered_on, lead_id
        ) as reason
    from matched
    group by household_id
)

select * from final
