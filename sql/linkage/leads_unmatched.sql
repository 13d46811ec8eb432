-- leads_unmatched.csv (docs/outputs.md): the day's leads matched to no registered member,
-- for the bureau, with their candidates (ID numbers masked) and why they are listed.
select
    lead_id as 线索编号,
    source as 来源,
    registered_on as 登记日期,
    person_name as 当事人姓名,
    mask_id(id_text) as 身份证号,
    township_said as 乡镇,
    village_said as 村,
    phone as 联系电话,
    summary as 内容摘要,
    case status
        when 'ambiguous' then printf('有%d名候选人匹配概率达到阈值，无法确定是哪一位', candidates_above_threshold)
        when 'township_unknown' then '乡镇名称在本区农户信息中不存在'
        else '没有候选人达到匹配概率阈值'
    end as 未匹配原因,
    township_code as 乡镇代码,
    round(match_probability, 3) as 最高匹配概率,
    candidates as 候选人
from linkage.lead_matches
where business_date = $business_date::date and status <> 'matched'
order by lead_id
