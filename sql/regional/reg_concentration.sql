-- Villages where, within the window, new alerts of one category reach a share of the
-- village's households or a number of households (防止规模性返贫).
with households_per_village as (
    select
        township_code,
        village_code,
        any_value(village_name) as village_name,
        count(*) as households
    from signals.int_households
    group by township_code, village_code
),

new_alerts as (
    select
        village_code,
        category,
        count(distinct household_id) as alerted_households,
        min(first_raised) as first_alert_date
    from alerts.alerts
    where first_raised > $business_date - $regional__window_days
        and first_raised <= $business_date
    group by village_code, category
),

final as (
    select
        'village' as scope,
        villages.village_code as scope_code,
        villages.township_code,
        villages.village_code,
        department_text(villages.village_name) as scope_name,
        'concentration' as rule,
        new_alerts.category,
        new_alerts.alerted_households as figure,
        villages.households as scope_households,
        new_alerts.first_alert_date as evidence_date,
        null::varchar as detail
    from new_alerts
    inner join households_per_village as villages
        on new_alerts.village_code = villages.village_code
    where new_alerts.alerted_households >= $regional__concentration__households
        or new_alerts.alerted_households >= $regional__concentration__share * villages.households
)

select * from final
