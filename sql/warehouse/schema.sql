-- The warehouse's bookkeeping: one row per loaded delivery, the quarantine, one row per run.
create schema if not exists staging;
create schema if not exists meta;

-- one row per feed and delivery date: the delivery in force for that date
create table if not exists meta.deliveries (
    feed varchar not null,
    delivery_date date not null,
    file varchar not null,
    sha256 varchar not null,
    marker_rows bigint,
    rows_read bigint not null,
    rows_loaded bigint not null,
    rows_quarantined bigint not null,
    encoding varchar,
    loaded_at timestamp not null,
    loaded_for_date date not null,
    primary key (feed, delivery_date)
);

-- one row per quarantined row of a loaded delivery
create table if not exists meta.quarantine (
    feed varchar not null,
    file varchar not null,
    row varchar not null,
    reason varchar not null,
    raw varchar,
    delivery_date date not null,
    loaded_for_date date not null
);

-- one row per corrected re-delivery: a date delivered again with other content
create table if not exists meta.redeliveries (
    feed varchar not null,
    delivery_date date not null,
    previous_sha256 varchar not null,
    sha256 varchar not null,
    loaded_for_date date not null
);

-- one row per business date processed: its manifest as last written
create table if not exists meta.runs (
    business_date date primary key,
    finished_at timestamp not null,
    manifest json not null
);
