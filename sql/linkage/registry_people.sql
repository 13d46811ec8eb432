-- Every registered member in force as the linkage compares them: the keys of their name,
-- township and village, and the parts of the ID number a caller may remember.
select
    people.id_number as unique_id,
    people.id_number,
    people.household_id,
    person_key(members.name) as name,
    left(person_key(members.name), 1) as name_first,
    township_key(households.township_name) as township,
    village_key(households.village_name) as village,
    substr(people.id_number, 7, 4) as birth_year,
    left(people.id_number, 6) as area_code
from signals.int_people as people
inner join staging.cur_members as members on people.id_number = members.id_number
inner join signals.int_households as households on people.household_id = households.household_id
