-- Regional warnings (防止规模性返贫) as of each business date.
create schema if not exists alerts;

create table if not exists alerts.regional_snapshots (
    as_of_date date not null,
    regional_id varchar not null,
    scope varchar not null,             -- village | township
    scope_code varchar not null,        -- the village's or the township's code
    township_code varchar,
    village_code varchar,
    scope_name varchar,
    rule varchar not null,              -- concentration | disaster | water | villages | unemployment
    category varchar not null,          -- the alert category of a concentration, else '' or the rule's
    status varchar not null,            -- new | open | closed
    first_raised date not null,
    last_updated date not null,
    figure bigint not null,             -- the number that crossed the threshold
    reason varchar not null,
    primary key (as_of_date, regional_id)
);
