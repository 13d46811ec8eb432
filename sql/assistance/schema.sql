-- The assistance ledger (帮扶台账, docs/assistance.md, "The assistance ledger"): one case per
-- household confirmed at risk, its contacts and measures as history, every change as an
-- event, and the cases as of each business date (so that a rerun can rewind, as alerts do).
create schema if not exists assistance;

create table if not exists assistance.cases (
    case_id varchar primary key,
    household_id varchar not null,
    township_code varchar,
    village_code varchar,
    categories varchar not null,        -- the confirmed categories' codes, joined by ','
    confirmed_date date not null,       -- the verification date that opened the case
    due_by date not null,               -- confirmed_date + assistance.due_months
    status varchar not null,            -- awaiting | in_place | overdue | closed
    contact varchar,                    -- the assistance contact now (帮扶联系人)
    contact_unit varchar,
    in_place_date date,                 -- the first day with a contact and a measure in place
    closed_date date,
    close_cause varchar,
    -- the registry in force has shown the household not 已消除 since the case opened: only
    -- then does a registry marking it 已消除 close the case (a registry that lags behind the
    -- verification closes nothing)
    has_registry_at_risk boolean not null default false
);

-- one row per measure (一户一方案、一人一措施): a later row adds, never rewrites
create table if not exists assistance.measures (
    case_id varchar not null,
    sequence integer not null,          -- order of the case's measures
    measure_type varchar not null,
    content varchar,
    put_in_place_date date not null,    -- 落实日期 as the grid wrote it
    contact varchar not null,
    recorded_date date not null,        -- the business date whose run applied the row
    file varchar not null,              -- the returned workbook it came from
    contact_unit varchar                -- the contact's unit as the row gave it
);

-- the contacts of a case, the current one last: a change of contact is kept with its date
create table if not exists assistance.contacts (
    case_id varchar not null,
    contact varchar not null,
    contact_unit varchar,
    from_date date not null,
    recorded_date date not null
);

create table if not exists assistance.events (
    case_id varchar not null,
    event_date date not null,
    sequence integer not null,
    event varchar not null,             -- opened | joined | contact | measure | in_place | overdue | closed
    cause varchar not null
);

create table if not exists assistance.runs (
    as_of_date date primary key
);

create table if not exists assistance.snapshots as
select
    null::date as as_of_date,
    *
from assistance.cases
where false;
