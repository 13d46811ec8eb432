-- What the linkage decided for each lead, kept per business date: the daily run's alerts
-- (sig_lead through signals.int_lead_matches), leads_unmatched.csv, the townships' 线索核查
-- sheets and the report read it. A partitioned run links once, against the whole district's
-- registry, and each partition reads its households' matches from here.
create schema if not exists linkage;

create table if not exists linkage.lead_matches (
    business_date date not null,
    lead_id varchar not null,
    source varchar,
    registered_on date,
    summary varchar,
    person_name varchar,
    id_text varchar,
    phone varchar,
    township_said varchar,
    village_said varchar,
    township_code varchar,
    township_name varchar,
    -- matched, ambiguous, unmatched or township_unknown
    status varchar not null,
    -- id_number or linkage, for a matched lead
    matched_by varchar,
    household_id varchar,
    id_number varchar,
    match_probability double,
    candidates_above_threshold integer not null,
    candidates varchar
);
