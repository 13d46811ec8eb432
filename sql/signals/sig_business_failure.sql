-- One row per household whose family business was recently closed or revoked (产业经营失败).
with entities as (
    select * from staging.cur_market_entities
),

failed as (
    select
        entities.*,
        people.household_id,
        people.relation
    from entities
    inner join signals.int_people as people on entities.operator_id_number = people.id_number
    where entities.entity_type in ('个体工商户', '农民专业合作社')
        and entities.registration_status in ('注销', '吊销')
        and entities.status_change_date between $business_date::date - ($recent_days - 1) and $business_date::date
),

final as (
    select
        household_id,
        'business_failure' as category,
        'yellow' as base_grade,
        max(status_change_date) as evidence_date,
        '区市场监督管理局市场主体登记：' || string_agg(
            printf('%s经营的%s“%s”于%s%s', relation, entity_type, department_text(entity_name), status_change_date, registration_status),
            '；' order by status_change_date, credit_code
        ) as reason
    from failed
    group by household_id
)

select * from final
