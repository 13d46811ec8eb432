-- One row per household with a recent 低保/特困 stop, monitored or near the line (低保/特困停保).
with stopped as (
    select newest.*
    from signals.int_assistance_newest as newest
    inner join signals.int_households as households on newest.household_id = households.household_id
    where newest.assistance_type in ('低保', '特困供养')
        and newest.change_type = '停保'
        and newest.change_date between $business_date::date - ($recent_days - 1) and $business_date::date
        and (households.is_monitored or households.is_near_line)
),

final as (
    select
        household_id,
        'assistance_stopped' as category,
        'orange' as base_grade,
        max(change_date) as evidence_date,
        '区民政局社会救助变动：' || string_agg(
            printf('%s于%s停发%s（停保原因：%s）', relation, change_date, assistance_type, coalesce(department_text(stop_reason), '未注明')),
            '；' order by change_date, assistance_type
        ) as reason
    from stopped
    group by household_id
)

select * from final
