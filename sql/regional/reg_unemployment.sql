-- Townships where unemployment registrations of the recent days exceed a factor times
-- the average of the baseline days before them (per period of the recent length).
with registrations as (
    select
        households.township_code,
        households.township_name,
        employment.change_date
    from staging.cur_hrss_employment as employment
    inner join signals.int_people as people on employment.id_number = people.id_number
    inner join signals.int_households as households on people.household_id = households.household_id
    where employment.employment_status in (select unnest($regional__unemployment__statuses::varchar[]))
        and employment.change_date <= $business_date
        and employment.change_date > $business_date - ($regional__unemployment__recent_days + $regional__unemployment__baseline_days)
),

per_township as (
    select
        township_code,
        any_value(township_name) as township_name,
        count(*) filter (where change_date > $business_date - $regional__unemployment__recent_days) as recent,
        count(*) filter (where change_date <= $business_date - $regional__unemployment__recent_days) as baseline,
        min(change_date) filter (where change_date > $business_date - $regional__unemployment__recent_days)
            as first_recent_date
    from registrations
    group by township_code
),

final as (
    select
        'township' as scope,
        township_code as scope_code,
        township_code,
        null::varchar as village_code,
        department_text(township_name) as scope_name,
        'unemployment' as rule,
        'unemployment' as category,
        recent as figure,
        null::bigint as scope_households,
        first_recent_date as evidence_date,
        '近' || $regional__unemployment__recent_days::varchar || '天返乡未就业和失业登记' || recent || '人次，此前'
        || $regional__unemployment__baseline_days::varchar || '天平均每' || $regional__unemployment__recent_days::varchar || '天'
        || round(baseline * $regional__unemployment__recent_days / $regional__unemployment__baseline_days, 1)::varchar || '人次'
            as detail
    from per_township
    where recent >= $regional__unemployment__min_registrations
        and recent > $regional__unemployment__factor * baseline * $regional__unemployment__recent_days / $regional__unemployment__baseline_days
)

select * from final
