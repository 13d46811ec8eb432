-- Townships where several villages are under a regional warning on the business date.
with warned_villages as (
    select
        township_code,
        village_code,
        scope_name
    from regional.village_conditions
    group by township_code, village_code, scope_name
),

townships as (
    select
        township_code,
        any_value(township_name) as township_name
    from signals.int_households
    group by township_code
),

final as (
    select
        'township' as scope,
        warned_villages.township_code as scope_code,
        warned_villages.township_code,
        null::varchar as village_code,
        department_text(coalesce(any_value(townships.township_name), warned_villages.township_code)) as scope_name,
        'villages' as rule,
        null::varchar as category,
        count(*) as figure,
        null::bigint as scope_households,
        $business_date as evidence_date,
        string_agg(warned_villages.scope_name, '、' order by warned_villages.village_code) as detail
    from warned_villages
    left join townships on warned_villages.township_code = townships.township_code
    group by warned_villages.township_code
    having count(*) >= $regional__villages__villages
)

select * from final
