-- The quarantine of a business date: one row per quarantined row of the deliveries
-- its runs loaded, in file and row order.
with quarantined as (
    select
        feed,
        file,
        row,
        reason,
        raw,
        delivery_date
    from meta.quarantine
    where loaded_for_date = $business_date
),

final as (
    select
        feed,
        file,
        row,
        reason,
        raw
    from quarantined
    order by feed, delivery_date, file, try_cast(row as bigint) nulls last, row
)

select * from final
