-- One row per household whose village (or whole township) had a serious disaster recently (因灾).
with events as (
    select * from staging.cur_disaster_events
    where list_contains($disaster__alert_severities, severity)
        and occurrence_date between $business_date::date - ($disaster__window_days - 1) and $business_date::date
),

affected as (
    select
        households.household_id,
        households.is_monitored,
        events.*
    from events
    inner join signals.int_households as households
        on events.village_code = households.village_code
            or (events.village_code is null and events.township_code = households.township_code)
),

final as (
    select
        household_id,
        'disaster' as category,
        case
            when bool_or(list_contains($disaster__red_severities, severity)) and bool_or(is_monitored) then 'red'
            when bool_or(is_monitored) then 'orange'
            else 'yellow'
        end as base_grade,
        max(occurrence_date) as evidence_date,
        '区应急管理局灾情报告：' || string_agg(
            printf(
                '%s本%s发生%s%s灾害（受灾%d户%s）', occurrence_date,
                case when village_code is null then '乡镇' else '村' end, severity, disaster_type, households_affected,
                case when direct_loss_10k_yuan is not null then printf('，直接经济损失%.1f万元', direct_loss_10k_yuan) else '' end
            ),
            '；' order by occurrence_date, event_id
        ) as reason
    from affected
    group by household_id
)

select * from final
