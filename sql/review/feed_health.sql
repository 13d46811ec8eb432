-- fpwarn_feed_health, the part the warehouse knows: per feed, whether a delivery dated the
-- business date is in the ledger, the newest good delivery up to that date and the most
-- frequent quarantine reasons of the date. Status, reason and row counts come from the
-- run's manifest.
with ledger as (
    -- the ledger as it stood on the business date: deliveries a later run loaded
    -- (a late or corrected delivery) do not count yet
    select
        feed,
        delivery_date,
        rows_read,
        rows_loaded
    from meta.deliveries
    where delivery_date <= $business_date
        and loaded_for_date <= $business_date
),

good as (
    -- A snapshot counts when rows of it were loaded: an empty or wholly quarantined one
    -- does not replace the state in force. An increment also counts when it was empty,
    -- "nothing changed" being an answer; one whose rows were all quarantined does not.
    select
        feed,
        max(delivery_date) as last_good_delivery
    from ledger
    where rows_loaded > 0
        or (rows_read = 0 and list_contains($increment_feeds::varchar[], feed))
    group by feed
),

delivered as (
    select distinct feed
    from ledger
    where delivery_date = $business_date
),

kinds as (
    -- The quarantine of the date, as quarantine.csv lists it, without the value a reason
    -- quotes (the date that is no date, the value off the list, the row it repeats): the
    -- same fault then counts as one ("变动日期无法解析为日期 12", not twelve reasons
    -- once each), and the sender's values stay in quarantine.csv, out of the BI tool.
    select
        feed,
        regexp_replace(
            regexp_replace(
                reason,
                '(取值不在约定范围|无法解析为日期|无法解析为金额|不是整数|应为整数)：.*$',
                '\1'
            ),
            '^与本批第[^行]*行重复',
            '与本批其他行重复'
        ) as reason
    from meta.quarantine
    where loaded_for_date = $business_date
),

reasons as (
    select
        feed,
        reason,
        count(*) as row_count
    from kinds
    group by feed, reason
),

ranked as (
    select
        feed,
        reason,
        row_count,
        row_number() over (partition by feed order by row_count desc, reason) as position
    from reasons
),

top_reasons as (
    select
        feed,
        string_agg(reason || ' ' || row_count, '；' order by position) as top_quarantine_reasons
    from ranked
    where position <= 3
    group by feed
),

feeds as (
    select feed from ledger
    union
    select feed from reasons
),

final as (
    select
        feeds.feed,
        delivered.feed is not null as delivered,
        good.last_good_delivery,
        date_diff('day', good.last_good_delivery, $business_date::date) as days_since_last_good,
        top_reasons.top_quarantine_reasons
    from feeds
    left join delivered on feeds.feed = delivered.feed
    left join good on feeds.feed = good.feed
    left join top_reasons on feeds.feed = top_reasons.feed
    order by feeds.feed
)

select * from final
