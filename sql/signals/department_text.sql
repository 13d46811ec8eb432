-- The macro department_text(value): department text (a business name, a remark) as it may
-- enter a reason, cut at 200 characters with a note of its length (as clip_text in
-- pipeline/safe_text.py), so that a huge value never buries what follows it in the reason.
create or replace temp macro department_text(value) as
case
    when length(value) > 200 then left(value, 200) || '…（已截断，原文 ' || length(value) || ' 字）'
    else value
end
