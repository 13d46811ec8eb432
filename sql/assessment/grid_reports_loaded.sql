-- How many rows the grid-report feed (网格员月报) has loaded.
select count(*) as loaded_rows
from staging.stg_grid_reports
