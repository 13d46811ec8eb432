-- What each raised signal owes to rows that lost their ID number (pipeline/linkage/rows.py):
-- per household and category, the recovered rows in force of the category's feeds (a
-- snapshot's delivery in force; an increment's deliveries of the last $recent_days days), so
-- that the reason says the person was matched by name. Reads category_feeds (category, feed,
-- snapshot), registered from the rules file and the feed registry.
with in_force as (
    select
        feed,
        max(delivery_date) as delivery_date
    from meta.deliveries
    where rows_loaded > 0 and delivery_date <= $business_date::date
    group by feed
),

recovered as (
    select
        category_feeds.category,
        matches.feed,
        matches.household_id,
        matches.match_probability
    from linkage.row_matches as matches
    inner join category_feeds on matches.feed = category_feeds.feed
    inner join in_force on matches.feed = in_force.feed
    where matches.status = 'recovered'
        and matches.delivery_date <= $business_date::date
        and (
            matches.delivery_date = in_force.delivery_date
            or (
                not category_feeds.snapshot
                and matches.delivery_date > $business_date::date - $recent_days::integer
            )
        )
),

final as (
    select
        category,
        household_id,
        printf(
            '（本户有%d条%s记录的身份证号不可用，按姓名和身份证号残余数字匹配到本户成员，匹配概率不低于%.3f）',
            count(*),
            string_agg(distinct feed, '、' order by feed),
            min(match_probability)
        ) as note
    from recovered
    group by category, household_id
)

select * from final
