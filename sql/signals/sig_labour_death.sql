-- One row per household that lost a labourer (主要劳动力死亡); age is taken at the date of death.
with changes as (
    select * from staging.cur_police_hukou
),

newest as (
    select *
    from changes
    qualify row_number() over (
            partition by id_number order by change_date desc, delivery_date desc, source_row desc
        ) = 1
),

deaths as (
    select
        newest.*,
        people.household_id,
        people.relation,
        people.labour_skill,
        date_diff('year', people.birth_date, newest.change_date)
        - case when strftime(newest.change_date, '%m%d') < strftime(people.birth_date, '%m%d') then 1 else 0 end
            as age_at_death
    from newest
    inner join signals.int_people as people on newest.id_number = people.id_number
    where newest.change_type = '死亡注销'
        and newest.change_date between $business_date::date - ($recent_days - 1) and $business_date::date
),

labour_deaths as (
    select
        deaths.*,
        households.is_monitored
    from deaths
    inner join signals.int_households as households on deaths.household_id = households.household_id
    where deaths.age_at_death between $labourer__min_age and $labourer__max_age
        and list_contains($labourer__skills, deaths.labour_skill)
),

final as (
    select
        household_id,
        'labour_death' as category,
        case when bool_or(is_monitored) then 'red' else 'orange' end as base_grade,
        max(change_date) as evidence_date,
        '公安分局户籍变动：' || string_agg(
            printf(
                '%s（%d岁，%s）于%s死亡注销%s', relation, age_at_death, labour_skill, change_date,
                case when remark is not null then '，备注：' || department_text(remark) else '' end
            ),
            '；' order by change_date
        ) as reason
    from labour_deaths
    group by household_id
)

select * from final
