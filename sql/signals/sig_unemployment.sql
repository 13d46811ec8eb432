-- One row per household with a labourer newly unemployed or back home without work (因失业).
with changes as (
    select * from staging.cur_hrss_employment
),

newest as (
    select *
    from changes
    qualify row_number() over (
            partition by id_number order by change_date desc, delivery_date desc, source_row desc
        ) = 1
),

labourers as (
    select *
    from signals.int_people
    where is_labourer
),

labourers_per_household as (
    select
        household_id,
        count(*) as labourer_count
    from labourers
    group by household_id
),

unemployed as (
    select
        newest.*,
        labourers.household_id,
        labourers.relation,
        labourers.age_years
    from newest
    inner join labourers on newest.id_number = labourers.id_number
    where newest.employment_status in ('失业登记', '返乡未就业')
        and newest.change_date between $business_date::date - ($recent_days - 1) and $business_date::date
),

final as (
    select
        unemployed.household_id,
        'unemployment' as category,
        case when max(labourers_per_household.labourer_count) = 1 then 'orange' else 'yellow' end as base_grade,
        max(unemployed.change_date) as evidence_date,
        '区人力资源和社会保障局就业失业登记：' || string_agg(
            printf(
                '%s（%d岁劳动力）于%s%s', unemployed.relation, unemployed.age_years, unemployed.change_date,
                unemployed.employment_status
            ),
            '；' order by unemployed.change_date
        ) || case when max(labourers_per_household.labourer_count) = 1 then '；系家中唯一劳动力' else '' end as reason
    from unemployed
    inner join labourers_per_household on unemployed.household_id = labourers_per_household.household_id
    group by unemployed.household_id
)

select * from final
