-- One row per application of the business date and finding of the data comparison (数据比对),
-- each finding with its label and its evidence in Chinese. Evidence names a person by role
-- (申请人 or 与户主关系) and never holds an ID number, a name or a plate number: the rows go
-- to the village for review. An application without findings gets one row `none`; one
-- without a signed authorisation gets only `authorisation_missing`.
with authorised as (
    -- Department data is read for these people only: authorised applications (checked again
    -- here, so that no join below can ever see an application without authorisation).
    select people.*
    from comparisons.int_application_people as people
    where people.application_id in (
            select application_id from comparisons.int_applications
            where is_authorised
        )
),

labels as (
    select *
    from (
        values
        ('authorisation_missing', '未签承诺授权书，未进行数据比对', 0),
        ('vehicle', '名下有机动车', 1),
        ('business', '经营市场主体', 2),
        ('assistance', '正在享受社会救助', 3),
        ('insurance', '医保参保状态异常', 4),
        ('medical', '近期有医疗费用', 5),
        ('housing', '住房安全鉴定为危房', 6),
        ('unemployment', '近期失业或返乡未就业', 7),
        ('death', '近期死亡注销', 8),
        ('none', '未发现异常', 9)
    ) as labels (finding, finding_label, finding_order)
),

vehicles as (
    select
        authorised.application_id,
        authorised.person_role,
        authorised.role_order,
        'vehicle' as finding,
        printf(
            '公安分局交警大队机动车登记：%s名下%s（%s，%s），初次登记日期%s',
            authorised.person_role, vehicles.vehicle_type, vehicles.usage, vehicles.vehicle_status,
            vehicles.first_registration_date
        ) as evidence
    from authorised
    inner join staging.cur_police_vehicles as vehicles on authorised.id_number = vehicles.owner_id_number
    where list_contains($comparison__vehicle_statuses, vehicles.vehicle_status)
),

businesses as (
    select
        authorised.application_id,
        authorised.person_role,
        authorised.role_order,
        'business' as finding,
        -- The entity's name is left out: a 个体工商户 is often named after its operator.
        printf(
            '区市场监督管理局市场主体登记：%s为%s的经营者或法定代表人（登记状态%s%s，状态变动日期%s）',
            authorised.person_role, entities.entity_type, entities.registration_status,
            case
                when entities.registered_capital_10k_yuan is not null
                    then '，注册资本'
                        || rtrim(rtrim(printf('%.2f', entities.registered_capital_10k_yuan), '0'), '.')
                        || '万元'
                else ''
            end,
            entities.status_change_date
        ) as evidence
    from authorised
    inner join staging.cur_market_entities as entities on authorised.id_number = entities.operator_id_number
    where list_contains($comparison__business_statuses, entities.registration_status)
),

assistance_changes as (
    select
        id_number,
        assistance_type,
        change_type,
        change_date,
        monthly_amount_yuan,
        row_number() over (
            partition by id_number, assistance_type order by change_date desc, delivery_date desc, source_row desc
        ) as recency,
        max(case when change_type = '停保' then change_date end) over (
            partition by id_number, assistance_type
        ) as last_stop_date
    from staging.cur_civil_assistance
    where id_number in (select id_number from authorised)
        and change_date <= $business_date::date
),

-- The current spell of an assistance began with the first change after its last stop.
assistance_since as (
    select
        id_number,
        assistance_type,
        min(change_date) as since_date
    from assistance_changes
    where last_stop_date is null or change_date > last_stop_date
    group by id_number, assistance_type
),

assistance as (
    select
        authorised.application_id,
        authorised.person_role,
        authorised.role_order,
        'assistance' as finding,
        printf(
            '区民政局社会救助：%s自%s起享受%s%s',
            authorised.person_role,
            coalesce(assistance_since.since_date, newest.change_date),
            newest.assistance_type,
            case
                when newest.monthly_amount_yuan is not null
                    then printf('，月救助金额%.2f元', newest.monthly_amount_yuan)
                else ''
            end
        ) as evidence
    from assistance_changes as newest
    inner join authorised on newest.id_number = authorised.id_number
    left join assistance_since
        on newest.id_number = assistance_since.id_number
            and newest.assistance_type = assistance_since.assistance_type
    -- the newest change per person and type counts; after a stop there is nothing current
    where newest.recency = 1
        and newest.change_type <> '停保'
),

insurance as (
    select
        authorised.application_id,
        authorised.person_role,
        authorised.role_order,
        'insurance' as finding,
        printf(
            '区医疗保障局%d年度参保名单：%s参保状态为%s',
            enrolment.insurance_year, authorised.person_role, enrolment.insurance_status
        ) as evidence
    from authorised
    inner join staging.cur_med_enrollment as enrolment on authorised.id_number = enrolment.id_number
    where enrolment.insurance_year = year($business_date::date)
        and enrolment.insurance_status <> '正常参保'
),

claims as (
    select *
    from staging.cur_med_claims
    where id_number in (select id_number from authorised)
        and settlement_date <= $business_date::date
),

reversed as (
    select reversed_settlement_id as settlement_id
    from claims
    where reversal_flag = '1' and reversed_settlement_id is not null
),

-- A settlement reversed by a CXBZ = 1 row counts for nothing, and neither does its reversal.
recent_claims as (
    select *
    from claims
    where reversal_flag = '0'
        and settlement_id not in (select settlement_id from reversed)
        and settlement_date between $business_date::date - ($comparison__recent_days - 1) and $business_date::date
),

medical as (
    select
        authorised.application_id,
        authorised.person_role,
        authorised.role_order,
        'medical' as finding,
        printf(
            '区医疗保障局医疗费用结算：%s近%d天结算%d笔，个人自付合计%.2f元，最近一笔%s',
            authorised.person_role, $comparison__recent_days, count(*), sum(recent_claims.self_paid_yuan),
            max(recent_claims.settlement_date)
        ) as evidence
    from authorised
    inner join recent_claims on authorised.id_number = recent_claims.id_number
    group by authorised.application_id, authorised.person_role, authorised.role_order, authorised.id_number
),

housing as (
    select
        authorised.application_id,
        authorised.person_role,
        authorised.role_order,
        'housing' as finding,
        printf(
            '区住房和城乡建设局房屋安全鉴定：%s名下房屋于%s鉴定为%s（%s），改造状态“%s”',
            authorised.person_role, appraisals.appraisal_date, appraisals.safety_grade,
            case when appraisals.safety_grade = 'D级' then '整栋危房' else '局部危房' end,
            appraisals.renovation_status
        ) as evidence
    from authorised
    inner join staging.cur_housing_safety as appraisals on authorised.id_number = appraisals.head_id_number
    where appraisals.safety_grade in ('C级', 'D级')
        and appraisals.renovation_status <> '已改造'
        and appraisals.appraisal_date between $business_date::date - ($comparison__recent_days - 1) and $business_date::date
),

-- The newest registration per person counts: a job found since ends the unemployment.
employment_newest as (
    select *
    from staging.cur_hrss_employment
    where id_number in (select id_number from authorised)
        and change_date <= $business_date::date
    qualify row_number() over (
            partition by id_number order by change_date desc, delivery_date desc, source_row desc
        ) = 1
),

unemployment as (
    select
        authorised.application_id,
        authorised.person_role,
        authorised.role_order,
        'unemployment' as finding,
        printf(
            '区人力资源和社会保障局就业失业登记：%s于%s%s',
            authorised.person_role, employment_newest.change_date, employment_newest.employment_status
        ) as evidence
    from authorised
    inner join employment_newest on authorised.id_number = employment_newest.id_number
    where employment_newest.employment_status in ('失业登记', '返乡未就业')
        and employment_newest.change_date
        between $business_date::date - ($comparison__recent_days - 1) and $business_date::date
),

deaths as (
    select *
    from staging.cur_police_hukou
    where id_number in (select id_number from authorised)
        and change_type = '死亡注销'
        and change_date between $business_date::date - ($comparison__recent_days - 1) and $business_date::date
    qualify row_number() over (
            partition by id_number order by change_date desc, delivery_date desc, source_row desc
        ) = 1
),

death as (
    select
        authorised.application_id,
        authorised.person_role,
        authorised.role_order,
        'death' as finding,
        -- The remark is free text and may name people: left out.
        printf('公安分局户籍变动：%s于%s死亡注销', authorised.person_role, deaths.change_date) as evidence
    from authorised
    inner join deaths on authorised.id_number = deaths.id_number
),

found as (
    select * from vehicles
    union all
    select * from businesses
    union all
    select * from assistance
    union all
    select * from insurance
    union all
    select * from medical
    union all
    select * from housing
    union all
    select * from unemployment
    union all
    select * from death
),

compared as (
    select
        application_id,
        count(*) as people_compared
    from authorised
    group by application_id
),

nothing_found as (
    select
        applications.application_id,
        null as person_role,
        0 as role_order,
        'none' as finding,
        case
            when applications.is_registered
                then printf('已比对申请人及家庭成员共%d人', compared.people_compared)
            else '已比对申请人（未在监测信息系统建档）'
        end || '的机动车、市场主体、社会救助、医保参保、医疗费用、住房安全、就业失业、户籍变动数据，未发现异常'
            as evidence
    from comparisons.int_applications as applications
    inner join compared on applications.application_id = compared.application_id
    where applications.is_authorised
        and applications.application_id not in (select application_id from found)
),

-- Without a signed authorisation: this finding and nothing else.
withheld as (
    select
        application_id,
        null as person_role,
        0 as role_order,
        'authorisation_missing' as finding,
        '申请人未签承诺授权书，按规定未查询任何部门数据；补签后方可进行数据比对' as evidence
    from comparisons.int_applications
    where not is_authorised
),

every_finding as (
    select * from found
    union all
    select * from nothing_found
    union all
    select * from withheld
),

final as (
    select
        applications.application_id,
        applications.business_date,
        row_number() over (
            partition by applications.application_id
            order by labels.finding_order, every_finding.role_order, every_finding.person_role, every_finding.evidence
        )::integer as sequence,
        applications.township_code,
        applications.village_code,
        applications.household_id,
        every_finding.person_role,
        every_finding.finding,
        labels.finding_label,
        every_finding.evidence
    from every_finding
    inner join comparisons.int_applications as applications
        on every_finding.application_id = applications.application_id
    inner join labels on every_finding.finding = labels.finding
)

select * from final
