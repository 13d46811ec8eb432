-- linkage_candidates.csv (docs/outputs.md): the rows of the business date's deliveries
-- quarantined only because their ID number is unusable, each with the registry member
-- record linkage proposes for it (ID numbers masked) and what was done with the row.
with rows_linked as (
    select
        matches.*,
        quarantine.reason
    from linkage.row_matches as matches
    left join meta.quarantine as quarantine
        on matches.feed = quarantine.feed
            and matches.delivery_date = quarantine.delivery_date
            and matches.file = quarantine.file
            and matches.row = quarantine.row
    where matches.loaded_for_date = $business_date::date
)

select
    feed as 数据源,
    delivery_date as 交付日期,
    file as 文件,
    row as 行号,
    reason as 隔离原因,
    person_name as 姓名,
    mask_id(id_text) as 送达的身份证号,
    case status
        when 'recovered' then '已按姓名和身份证号残余数字匹配到本区成员，用于预警'
        when 'proposed' then '达到匹配概率阈值，按配置（linkage.use_for_alerts）未用于预警'
        when 'ambiguous' then printf('有%d名成员达到匹配概率阈值，无法确定是哪一位，未使用', candidates_above_threshold)
        when 'below_threshold' then '没有成员达到匹配概率阈值，仅列出候选人'
        when 'no_candidate' then '本区成员中没有同名或身份证号相近的人'
        when 'other_faults' then '换成匹配到的成员身份证号后仍有其他问题，未使用'
        when 'duplicate' then '该批次已有此人此项记录，未重复载入'
    end as 处理结果,
    mask_id(id_number) as 匹配到的成员身份证号,
    household_id as 户编号,
    round(match_probability, 3) as 最高匹配概率,
    candidates as 候选人
from rows_linked
order by feed, delivery_date, file, try_cast(row as bigint), row
