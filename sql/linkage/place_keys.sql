-- Macros for names of places and people as callers say them: the key two spellings of one
-- place share. No space of any width (NFKC makes U+3000 a plain space), and without the
-- suffix a caller may swap or leave out: 乡 and 镇 (and 街道) for a township, 村 (and 村委会,
-- 社区) for a village. A name that is nothing but its suffix keeps it.
create or replace temp macro spaceless(value) as
regexp_replace(nfc_normalize(replace(value, '　', ' ')), '\s+', '', 'g');

create or replace temp macro township_key(value) as
case
    when value is null or spaceless(value) = '' then null
    when length(regexp_replace(spaceless(value), '(乡|镇|街道|街道办事处)$', '')) >= 1
        then regexp_replace(spaceless(value), '(乡|镇|街道|街道办事处)$', '')
    else spaceless(value)
end;

create or replace temp macro village_key(value) as
case
    when value is null or spaceless(value) = '' then null
    when length(regexp_replace(spaceless(value), '(村民委员会|村委会|社区居委会|社区|村)$', '')) >= 1
        then regexp_replace(spaceless(value), '(村民委员会|村委会|社区居委会|社区|村)$', '')
    else spaceless(value)
end;

create or replace temp macro person_key(value) as
case when value is null or spaceless(value) = '' then null else spaceless(value) end;

-- An ID number as the bureau's lists show it (pipeline/dispatch/masking.py, mask_id_number).
create or replace temp macro mask_id(value) as
case
    when value is null then null
    when length(value) < 10 then repeat('*', length(value))
    else left(value, 6) || repeat('*', length(value) - 10) || right(value, 4)
end;
