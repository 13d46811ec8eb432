-- One row per unmonitored household newly granted assistance: a candidate 突发严重困难户 or 边缘易致贫户.
with granted as (
    select newest.*
    from signals.int_assistance_newest as newest
    inner join signals.int_households as households on newest.household_id = households.household_id
    where newest.change_type = '新增'
        and newest.change_date between $business_date::date - ($recent_days - 1) and $business_date::date
        and not households.is_monitored
),

final as (
    select
        household_id,
        'sudden_hardship' as category,
        case when bool_or(assistance_type in ('低保', '特困供养')) then 'orange' else 'yellow' end as base_grade,
        max(change_date) as evidence_date,
        '区民政局社会救助变动：' || string_agg(
            printf(
                '%s于%s新增%s%s', relation, change_date, assistance_type,
                case when monthly_amount_yuan is not null then printf('（%.2f元）', monthly_amount_yuan) else '' end
            ),
            '；' order by change_date, assistance_type
        ) || '；该户未纳入监测，可能为突发严重困难户或边缘易致贫户' as reason
    from granted
    group by household_id
)

select * from final
