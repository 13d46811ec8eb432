-- One row per household with a child out of compulsory education (因学 义务教育失学辍学).
with changes as (
    select * from staging.cur_edu_students
),

newest as (
    select *
    from changes
    qualify row_number() over (
            partition by student_id_number order by change_date desc, delivery_date desc, source_row desc
        ) = 1
),

dropped as (
    select
        newest.*,
        people.household_id,
        people.age_years
    from newest
    inner join signals.int_people as people on newest.student_id_number = people.id_number
    where list_contains($education_dropout__statuses, newest.status)
        and newest.change_date between $business_date::date - ($recent_days - 1) and $business_date::date
        and (
            list_contains($education_dropout__compulsory_stages, newest.stage)
            or people.age_years between $education_dropout__min_age and $education_dropout__max_age
        )
),

final as (
    select
        household_id,
        'education_dropout' as category,
        'red' as base_grade,
        max(change_date) as evidence_date,
        '区教育局学籍变动：' || string_agg(
            printf('%d岁学生（%s%s）于%s%s', age_years, stage, coalesce(department_text(grade_name), ''), change_date, status),
            '；' order by change_date
        ) || '，属义务教育阶段失学辍学' as reason
    from dropped
    group by household_id
)

select * from final
