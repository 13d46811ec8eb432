-- One row per township grid (乡镇级): the head responsible for following up its alerts.
select
    grid_id as township_code,
    grid_name,
    worker_name as township_head,
    phone as township_head_phone
from staging.cur_grids
where grid_level = '乡镇级'
order by grid_id
