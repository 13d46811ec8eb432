-- Disasters of the listed severities: a village warning, or a township warning when the
-- event names no village.
with villages as (
    select
        village_code,
        any_value(village_name) as village_name,
        any_value(township_name) as township_name
    from signals.int_households
    group by village_code
),

townships as (
    select
        township_code,
        any_value(township_name) as township_name
    from signals.int_households
    group by township_code
),

serious as (
    select *
    from staging.cur_disaster_events
    where severity in (select unnest($regional__disaster__severities::varchar[]))
        and occurrence_date > $business_date - $disaster__window_days
        and occurrence_date <= $business_date
),

final as (
    select
        case when serious.village_code is null then 'township' else 'village' end as scope,
        coalesce(serious.village_code, serious.township_code) as scope_code,
        serious.township_code,
        serious.village_code,
        department_text(coalesce(villages.village_name, townships.township_name, serious.township_code)) as scope_name,
        'disaster' as rule,
        'disaster' as category,
        serious.households_affected as figure,
        null::bigint as scope_households,
        serious.occurrence_date as evidence_date,
        serious.occurrence_date::varchar || serious.severity || serious.disaster_type || '灾害（事件编号'
        || serious.event_id || '，受灾' || serious.households_affected || '户'
        || coalesce('，直接经济损失' || serious.direct_loss_10k_yuan::varchar || '万元', '') || '）'
            as detail
    from serious
    left join villages on serious.village_code = villages.village_code
    left join townships on serious.township_code = townships.township_code
)

select * from final
