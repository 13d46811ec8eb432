-- One row when the connection sees the assistance cases (a table, or the partitions' view).
select 1 as present
from information_schema.tables
where table_schema = 'assistance' and table_name = 'cases'
