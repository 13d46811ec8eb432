"""One module per department: the rows its feed delivers (config/feeds/*.yaml).

| department | feeds | module |
| --- | --- | --- |
| 区乡村振兴局 (the household registry) | grids, households, members | ``registry`` |
| 区教育局 | edu_students | ``education`` |
| 区民政局 | civil_assistance | ``civil_affairs`` |
| 区人力资源和社会保障局 | hrss_employment | ``human_resources`` |
| 公安分局, 交警大队 | police_hukou, police_vehicles | ``public_security`` |
| 村委会（乡镇录入） | applications | ``applications`` |
| 区水利局 | water_supply | ``water`` |
| 区应急管理局 | disaster_events | ``emergency`` |
| 区住房和城乡建设局 | housing_safety | ``housing`` |
| 区医疗保障局 | med_enrollment; med_claims (its front-end database) | ``medical``, ``medical_claims`` |
| 区市场监督管理局 | market_entities | ``market_regulation`` |

``fpwarn_demo.feeds`` says which of them makes which feed, date by date.
"""
