-- 数据比对: the findings of every business date's applications. A rerun of a date replaces
-- that date's rows (deleted, then inserted in the same transaction).
create schema if not exists comparisons;

-- one row per application and finding; no ID number, name or plate number in any column
create table if not exists comparisons.findings (
    application_id varchar not null,
    business_date date not null,
    sequence integer not null,          -- order of the findings of one application
    township_code varchar not null,
    village_code varchar not null,
    household_id varchar,               -- null for an application without authorisation
    person_role varchar,                -- 申请人 or the member's 与户主关系; null for none/authorisation_missing
    finding varchar not null,
    finding_label varchar not null,
    evidence varchar not null
);
