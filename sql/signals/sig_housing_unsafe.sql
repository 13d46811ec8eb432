-- One row per household whose head's house is C级 or D级 and not yet renovated (住房安全).
with appraisals as (
    select * from staging.cur_housing_safety
),

final as (
    select
        households.household_id,
        'housing_unsafe' as category,
        case when appraisals.safety_grade = 'D级' then 'red' else 'orange' end as base_grade,
        appraisals.appraisal_date as evidence_date,
        printf(
            '区住房和城乡建设局房屋安全鉴定：户主房屋于%s鉴定为%s（%s），改造状态“%s”',
            appraisals.appraisal_date,
            appraisals.safety_grade,
            case when appraisals.safety_grade = 'D级' then '整栋危房' else '局部危房' end,
            appraisals.renovation_status
        ) as reason
    from appraisals
    inner join signals.int_households as households on appraisals.head_id_number = households.head_id_number
    where appraisals.safety_grade in ('C级', 'D级')
        and appraisals.renovation_status <> '已改造'
)

select * from final
