"""区应急管理局: 自然灾害和突发事件 (disaster_events), the events of the range."""

from __future__ import annotations

import random
from datetime import date, timedelta

from fpwarn_demo.population import District, Village
from fpwarn_demo.shared import PROTECTED, Row


def disasters(
    district: District,
    rng: random.Random,
    days: list[date],
    scale: float,
    flood_village: Village | None = None,
) -> dict[date, list[Row]]:
    """One 较大 flood in one village (the planted one), one 一般 event, and a few more 一般 ones."""
    by_day: dict[date, list[Row]] = {}
    villages = district.villages

    def add(day: date, row: Row) -> None:
        rows = by_day.setdefault(day, [])
        row["event_id"] = f"YJ{day:%Y%m%d}{len(rows) + 1:02d}"
        rows.append(row)

    flood_day = days[min(1, len(days) - 1)]
    village = rng.choice(villages)
    if flood_village is not None:
        village = flood_village
    affected = max(1, round(len(village.households) * rng.uniform(0.4, 0.8)))
    add(
        flood_day,
        {
            "disaster_type": "洪涝",
            "township_code": village.township.code,
            "village_code": village.code,
            "occurrence_date": flood_day - timedelta(days=rng.randint(0, 1)),
            "households_affected": affected,
            "direct_loss_10k_yuan": round(rng.uniform(80, 300), 1),
            "severity": "较大",
            PROTECTED: True,
        },
    )
    township = rng.choice(district.townships)
    hail_day = days[min(2, len(days) - 1)] if len(days) > 2 else days[0]
    add(
        hail_day,
        {
            "disaster_type": "风雹",
            "township_code": township.code,
            "village_code": "",
            "occurrence_date": hail_day,
            "households_affected": rng.randint(5, 40),
            "direct_loss_10k_yuan": round(rng.uniform(5, 40), 1),
            "severity": "一般",
            PROTECTED: True,
        },
    )
    for _ in range(round(len(days) * scale * 0.3)):
        day = rng.choice(days)
        village = rng.choice(villages)
        kind = rng.choices(("火灾", "地质灾害", "风雹", "低温冷冻", "干旱"), (40, 20, 20, 10, 10))[
            0
        ]
        single = kind == "火灾"
        add(
            day,
            {
                "disaster_type": kind,
                "township_code": village.township.code,
                "village_code": village.code,
                "occurrence_date": day - timedelta(days=rng.randint(0, 2)),
                "households_affected": 1 if single else rng.randint(2, 30),
                "direct_loss_10k_yuan": round(rng.uniform(1, 20 if single else 60), 1),
                "severity": "一般",
            },
        )
    return by_day
