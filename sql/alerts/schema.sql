-- The alert lifecycle: one row per alert (its state after the latest run), every change
-- as an event, and the state as of each business date (so that a rerun can rewind).
create schema if not exists alerts;

create table if not exists alerts.alerts (
    alert_id varchar primary key,
    household_id varchar not null,
    category varchar not null,
    grade varchar not null,
    status varchar not null,            -- new | open | escalated | closed (open.sql)
    first_raised date not null,
    last_updated date not null,
    verify_by date not null,
    evidence_date date,
    reasons varchar not null,
    township_code varchar,
    village_code varchar,
    grid_id varchar,
    closed_date date,
    close_cause varchar,
    close_result varchar
);

create table if not exists alerts.events (
    alert_id varchar not null,
    event_date date not null,
    sequence integer not null,          -- order of the events of one alert on one date
    event varchar not null,             -- raised | updated | regraded | escalated | closed
    grade varchar not null,
    cause varchar not null
);

-- one row per business date whose alerts were raised
create table if not exists alerts.runs (
    as_of_date date primary key
);

-- The alerts as of each business date: as_of_date, then the columns of alerts.alerts
-- (declared once, above).
create table if not exists alerts.snapshots as
select
    null::date as as_of_date,
    *
from alerts.alerts
where false;

-- one row per returned township workbook applied: a workbook returned twice changes nothing
create table if not exists alerts.returns (
    sha256 varchar primary key,
    file varchar not null,
    township_code varchar,
    applied_date date not null,
    rows_applied integer not null,
    rows_rejected integer not null
);
