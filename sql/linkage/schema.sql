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

-- Rows of file feeds quarantined only because their ID number is unusable, linked to the
-- registry's members (pipeline/linkage/rows.py): one line per row of each delivery, for
-- linkage_candidates.csv; status recovered (loaded for the alerts under the member's
-- number), proposed (above the threshold, not used: linkage.use_for_alerts is off),
-- ambiguous, below_threshold, no_candidate, other_faults (the member's number leaves
-- another fault) or duplicate (the delivery holds the key already).
create table if not exists linkage.row_matches (
    loaded_for_date date not null,
    feed varchar not null,
    delivery_date date not null,
    file varchar not null,
    row varchar not null,
    -- the name and the ID number as the row gave them
    person_name varchar,
    id_text varchar,
    status varchar not null,
    id_number varchar,
    household_id varchar,
    match_probability double,
    candidates_above_threshold integer not null,
    -- the best three, ID numbers masked
    candidates varchar
);
