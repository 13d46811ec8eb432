-- One row per household whose self-paid medical cost crosses its threshold (因病 医疗支出负担).
with claims as (
    select * from staging.cur_med_claims
    where settlement_date between $business_date::date - ($medical_burden__window_days - 1) and $business_date::date
),

reversed as (
    select reversed_settlement_id as settlement_id
    from claims
    where reversal_flag = '1' and reversed_settlement_id is not null
),

-- A settlement reversed by a CXBZ = 1 row counts for nothing, and neither does its reversal.
effective as (
    select * from claims
    where reversal_flag = '0'
        and settlement_id not in (select settlement_id from reversed)
),

people as (
    select
        id_number,
        household_id
    from signals.int_people
),

per_household as (
    select
        people.household_id,
        sum(effective.self_paid_yuan) as self_paid_window_yuan,
        max(case when effective.visit_type = '住院' then effective.self_paid_yuan end) as max_inpatient_self_paid_yuan,
        count(*) as settlement_count,
        max(effective.settlement_date) as last_settlement_date
    from effective
    inner join people on effective.id_number = people.id_number
    group by people.household_id
),

judged as (
    select
        per_household.*,
        households.is_monitored,
        households.net_income_last_year_yuan,
        $rural_income * case when households.is_monitored then $medical_burden__share_of_rural_income_monitored else $medical_burden__share_of_rural_income_other end
            as cost_threshold_yuan,
        case when households.is_monitored then $medical_burden__inpatient_self_paid_monitored_yuan else $medical_burden__inpatient_self_paid_other_yuan end
            as inpatient_threshold_yuan
    from per_household
    inner join signals.int_households as households on per_household.household_id = households.household_id
),

final as (
    select
        household_id,
        'medical_burden' as category,
        case when self_paid_window_yuan > net_income_last_year_yuan then 'red' else 'orange' end as base_grade,
        last_settlement_date as evidence_date,
        printf(
            '区医疗保障局医疗费用结算：近%d天个人自付合计%.2f元（%d笔，最近一笔%s）%s；%s',
            $medical_burden__window_days, self_paid_window_yuan, settlement_count, last_settlement_date,
            case
                when self_paid_window_yuan >= cost_threshold_yuan
                    then printf(
                            '，达到上年农村居民人均可支配收入%.0f元的%d%%（%.2f元）',
                            $rural_income, (100 * cost_threshold_yuan / $rural_income)::int, cost_threshold_yuan
                        )
                else ''
            end,
            case
                when max_inpatient_self_paid_yuan >= inpatient_threshold_yuan
                    then printf('单次住院个人自付%.2f元，达到%.0f元', max_inpatient_self_paid_yuan, inpatient_threshold_yuan)
                else '单次住院未超标'
            end
        ) || case
            when self_paid_window_yuan > net_income_last_year_yuan
                then printf('；超过家庭上年纯收入%.2f元', net_income_last_year_yuan)
            else ''
        end as reason
    from judged
    where self_paid_window_yuan >= cost_threshold_yuan
        or max_inpatient_self_paid_yuan >= inpatient_threshold_yuan
)

select * from final
