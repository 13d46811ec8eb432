-- One row when the grid-report feed (网格员月报) is in use: its staging table exists.
select 1 as present
from information_schema.tables
where table_schema = 'staging' and table_name = 'stg_grid_reports'
