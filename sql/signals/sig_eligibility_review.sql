-- One row per monitored household with a member whose assets call for a review (数据比对疑点).
with people as (
    select
        people.id_number,
        people.household_id,
        people.relation
    from signals.int_people as people
    inner join signals.int_households as households on people.household_id = households.household_id
    where households.is_monitored
),

vehicles as (
    select
        people.household_id,
        vehicles.first_registration_date as evidence_date,
        printf('%s名下%s（%s，%s）', people.relation, vehicles.vehicle_type, vehicles.usage, vehicles.vehicle_status)
            as finding,
        '公安分局交警大队机动车登记' as department
    from staging.cur_police_vehicles as vehicles
    inner join people on vehicles.owner_id_number = people.id_number
    where list_contains($eligibility_review__vehicle_types, vehicles.vehicle_type)
        and vehicles.usage = '非营运'
        and vehicles.vehicle_status = '正常'
),

businesses as (
    select
        people.household_id,
        entities.status_change_date as evidence_date,
        printf(
            '%s经营%s“%s”（存续%s）', people.relation, entities.entity_type, department_text(entities.entity_name),
            case when entities.registered_capital_10k_yuan is not null
                    then printf('，注册资本%.1f万元', entities.registered_capital_10k_yuan)
                else ''
            end
        ) as finding,
        '区市场监督管理局市场主体登记' as department
    from staging.cur_market_entities as entities
    inner join people on entities.operator_id_number = people.id_number
    where entities.registration_status = '存续'
        and (
            list_contains($eligibility_review__company_types, entities.entity_type)
            or entities.registered_capital_10k_yuan >= $eligibility_review__registered_capital_10k_yuan
        )
),

findings as (
    select * from vehicles
    union all
    select * from businesses
),

final as (
    select
        household_id,
        'eligibility_review' as category,
        'yellow' as base_grade,
        max(evidence_date) as evidence_date,
        string_agg(department || '：' || finding, '；' order by department, finding) || '，需核实家庭资产' as reason
    from findings
    group by household_id
)

select * from final
