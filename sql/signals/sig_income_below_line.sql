-- One row per household not (or no longer) monitored whose per-capita income is below the line.
with households as (
    select * from signals.int_households
),

final as (
    select
        household_id,
        'income_below_line' as category,
        case when household_type = '监测户' then 'red' else 'orange' end as base_grade,
        registry_date as evidence_date,
        printf(
            '区乡村振兴局农户信息：%s上年家庭纯收入%.2f元、%d人，人均%.2f元，低于%d年监测范围%.0f元%s',
            case when household_type = '监测户' then '已消除风险的监测户' else household_type end,
            net_income_last_year_yuan, household_size, income_per_capita_yuan, $line_year, $monitoring_line,
            case when household_type = '监测户' then '（疑似返贫）' else '（疑似应纳未纳）' end
        ) as reason
    from households
    where (household_type in ('脱贫户', '一般农户') or (household_type = '监测户' and risk_status = '已消除'))
        and income_per_capita_yuan < $monitoring_line
)

select * from final
