"""The alert lifecycle over consecutive days, on hand-made signals."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from pipeline.alerts.lifecycle import open_alerts, update_alerts
from pipeline.alerts.rules import load_rules

MON, TUE, WED, THU, FRI = (date(2026, 3, day) for day in (2, 3, 4, 5, 6))
NEXT_MON, NEXT_TUE = date(2026, 3, 9), date(2026, 3, 10)
H1, H2 = "3417021012010001", "3417021012010002"


@pytest.fixture
def warehouse(tmp_path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    connection.execute("create schema signals")
    connection.execute("create schema meta")
    connection.execute(
        "create table meta.redeliveries (feed varchar, delivery_date date, previous_sha256 varchar, "
        "sha256 varchar, loaded_for_date date)"
    )
    connection.execute(
        "create table signals.int_households (household_id varchar, township_code varchar, village_code varchar, "
        "grid_id varchar, is_near_line boolean)"
    )
    connection.execute(
        "insert into signals.int_households values "
        "(?, '341702101', '341702101201', '341702101201G01', false), "
        "(?, '341702101', '341702101201', '341702101201G01', true)",
        [H1, H2],
    )
    yield connection
    connection.close()


def signals(connection, *rows):
    """Today's signals: (household, category, base grade, evidence date, reason)."""
    connection.execute(
        "create or replace table signals.raised (household_id varchar, category varchar, base_grade varchar, "
        "evidence_date date, reason varchar)"
    )
    for row in rows:
        connection.execute("insert into signals.raised values (?, ?, ?, ?, ?)", list(row))


def run(connection, day, *rows, rules=None, redelivered=None):
    signals(connection, *rows)
    for feed in redelivered or ():
        connection.execute(
            "insert into meta.redeliveries values (?, ?, 'old', 'new', ?)", [feed, day, day]
        )
    connection.begin()
    report = update_alerts(connection, rules or load_rules(), day)
    connection.commit()
    alerts = open_alerts(connection)
    return report, {(row.household_id, row.category): row for row in alerts.itertuples()}


def events(connection, alert_id):
    return connection.execute(
        "select event_date, event, grade, cause from alerts.events where alert_id = ? order by event_date, sequence",
        [alert_id],
    ).fetchall()


HOUSING_C = (H1, "housing_unsafe", "orange", date(2026, 2, 1), "C级危房")


def test_new_then_open_then_escalated_with_the_same_id(warehouse):
    _, day1 = run(warehouse, MON, HOUSING_C)
    alert = day1[(H1, "housing_unsafe")]
    assert (alert.status, alert.grade, alert.first_raised.date()) == ("new", "orange", MON)
    # orange: 10 working days after Monday 2 March, the day itself not counted
    assert alert.verify_by.date() == date(2026, 3, 16)

    _, day2 = run(warehouse, TUE, HOUSING_C)
    assert day2[(H1, "housing_unsafe")].status == "open"
    assert day2[(H1, "housing_unsafe")].alert_id == alert.alert_id

    _, later = run(warehouse, date(2026, 3, 17), HOUSING_C)
    assert later[(H1, "housing_unsafe")].status == "escalated"
    assert [event[1] for event in events(warehouse, alert.alert_id)] == ["raised", "escalated"]


def test_red_deadline_counts_working_days_and_holidays(warehouse):
    rules = load_rules().model_copy(update={"holidays": (WED,)})
    _, alerts = run(warehouse, MON, (H1, "education_dropout", "red", MON, "辍学"), rules=rules)
    # Tue, Thu, Fri, next Mon: the holiday on Wednesday does not count.
    assert alerts[(H1, "education_dropout")].verify_by.date() == NEXT_MON


def test_new_evidence_updates_and_raises_the_grade_without_a_second_alert(warehouse):
    run(warehouse, MON, (H1, "medical_burden", "orange", MON, "自付2万元"))
    _, alerts = run(warehouse, TUE, (H1, "medical_burden", "red", TUE, "自付3万元，超过家庭纯收入"))

    alert = alerts[(H1, "medical_burden")]
    assert len(alerts) == 1
    assert alert.grade == "red"
    assert "自付3万元" in alert.reasons
    # red from Tuesday: 4 working days, earlier than the orange deadline of 16 March
    assert alert.verify_by.date() == date(2026, 3, 9)
    assert [event[1] for event in events(warehouse, alert.alert_id)] == [
        "raised",
        "updated",
        "regraded",
    ]


def test_grade_never_falls_while_open(warehouse):
    run(warehouse, MON, (H1, "housing_unsafe", "red", MON, "D级"))
    _, alerts = run(warehouse, TUE, (H1, "housing_unsafe", "orange", MON, "C级"))
    assert alerts[(H1, "housing_unsafe")].grade == "red"


def test_an_alert_whose_rule_no_longer_fires_stays_open_until_verified(warehouse):
    run(warehouse, MON, HOUSING_C)
    _, alerts = run(warehouse, TUE)
    assert alerts[(H1, "housing_unsafe")].status == "open"


def test_evidence_withdrawn_by_a_corrected_redelivery_closes_the_alert(warehouse):
    _, first = run(warehouse, MON, HOUSING_C)
    report, alerts = run(warehouse, TUE, redelivered={"housing_safety"})
    assert report.withdrawn == 1
    assert (H1, "housing_unsafe") not in alerts
    assert events(warehouse, first[(H1, "housing_unsafe")].alert_id)[-1][1:] == (
        "closed",
        "orange",
        "证据撤回",
    )


def test_near_the_line_raises_listed_categories_only(warehouse):
    _, alerts = run(
        warehouse,
        MON,
        (H2, "unemployment", "yellow", MON, "失业登记"),
        (H1, "unemployment", "yellow", MON, "失业登记"),
    )
    assert alerts[(H2, "unemployment")].grade == "orange"  # H2 is near the line
    assert "预警上调一级" in alerts[(H2, "unemployment")].reasons
    assert alerts[(H1, "unemployment")].grade == "yellow"


def test_near_the_line_does_not_apply_to_other_categories(warehouse):
    _, alerts = run(warehouse, MON, (H2, "eligibility_review", "yellow", MON, "小型轿车"))
    assert alerts[(H2, "eligibility_review")].grade == "yellow"


def test_compound_risk_makes_every_open_alert_at_least_orange(warehouse):
    run(warehouse, MON, (H1, "business_failure", "yellow", MON, "个体户注销"))
    _, alerts = run(warehouse, TUE, (H1, "eligibility_review", "yellow", TUE, "小型轿车"))
    assert {alert.grade for alert in alerts.values()} == {"orange"}
    cause = events(warehouse, alerts[(H1, "business_failure")].alert_id)[-1][3]
    assert cause.startswith("复合风险：同一户同时有2类预警")


def test_adjustments_apply_in_order_near_line_first_then_compound(warehouse):
    # Near the line lifts yellow to orange; compound then only guarantees orange: no second step.
    _, alerts = run(
        warehouse,
        MON,
        (H2, "business_failure", "yellow", MON, "个体户注销"),
        (H2, "eligibility_review", "yellow", MON, "小型轿车"),
    )
    assert alerts[(H2, "business_failure")].grade == "orange"
    assert alerts[(H2, "eligibility_review")].grade == "orange"
    grades = [event[2] for event in events(warehouse, alerts[(H2, "business_failure")].alert_id)]
    assert grades == ["orange"]  # raised orange (near the line); compound had nothing to add


def test_rerun_of_a_date_reproduces_alerts_and_events(warehouse):
    run(warehouse, MON, HOUSING_C)
    _, first = run(warehouse, TUE, HOUSING_C, (H2, "disaster", "orange", TUE, "洪涝"))
    first_events = warehouse.execute("select * from alerts.events order by all").fetchall()

    report, again = run(warehouse, TUE, HOUSING_C, (H2, "disaster", "orange", TUE, "洪涝"))

    assert again == first
    assert warehouse.execute("select * from alerts.events order by all").fetchall() == first_events
    assert not report.warnings


def test_rerun_of_an_earlier_date_says_later_dates_must_run_again(warehouse):
    run(warehouse, MON, HOUSING_C)
    run(warehouse, TUE, HOUSING_C)
    report, _ = run(warehouse, MON, HOUSING_C)
    assert any("之后的日期需要按顺序重跑" in warning for warning in report.warnings)


def returned(alert_id, result, on, township="341702101"):
    from pipeline.feedback.returns import ReturnedRow, ReturnedWorkbook

    row = ReturnedRow(
        row=2, alert_id=alert_id, result=result, verifier="李网格", verified_on=on, note=""
    )
    return ReturnedWorkbook(
        file=f"{township}_x.xlsx",
        sha256=f"{alert_id}{result}{on}",
        township_code=township,
        rows=(row,),
    )


def verify(connection, day, workbook, *rows):
    signals(connection, *rows)
    connection.begin()
    report = update_alerts(connection, load_rules(), day, [workbook])
    connection.commit()
    return report, {
        (row.household_id, row.category): row for row in open_alerts(connection).itertuples()
    }


@pytest.mark.parametrize(
    ("next_signal", "raised_again"),
    [
        pytest.param(HOUSING_C, False, id="same-evidence-rests"),
        pytest.param(
            (H1, "housing_unsafe", "red", date(2026, 2, 1), "D级危房"), True, id="higher-grade"
        ),
        pytest.param(
            (H1, "housing_unsafe", "orange", WED, "C级危房，新鉴定"), True, id="new-event"
        ),
    ],
)
def test_not_true_rests_the_household_and_category(warehouse, next_signal, raised_again):
    _, alerts = run(warehouse, MON, HOUSING_C)
    alert_id = alerts[(H1, "housing_unsafe")].alert_id
    report, after = verify(warehouse, TUE, returned(alert_id, "不属实", MON), HOUSING_C)
    assert report.verified == 1
    assert (H1, "housing_unsafe") not in after

    report, later = run(warehouse, THU, next_signal)

    assert ((H1, "housing_unsafe") in later) == raised_again
    if raised_again:
        assert later[(H1, "housing_unsafe")].alert_id != alert_id  # a new alert, a new id


def test_the_rest_ends_after_the_configured_days(warehouse):
    _, alerts = run(warehouse, MON, HOUSING_C)
    verify(
        warehouse, TUE, returned(alerts[(H1, "housing_unsafe")].alert_id, "不属实", MON), HOUSING_C
    )
    _, inside = run(warehouse, date(2026, 5, 29), HOUSING_C)  # 88 days after verification
    assert (H1, "housing_unsafe") not in inside
    _, after = run(warehouse, date(2026, 6, 1), HOUSING_C)  # 91 days after
    assert (H1, "housing_unsafe") in after


def test_two_copies_of_one_workbook_in_the_folder_are_applied_once(warehouse):
    _, alerts = run(warehouse, MON, HOUSING_C)
    workbook = returned(alerts[(H1, "housing_unsafe")].alert_id, "属实-已落实帮扶", MON)
    copy = type(workbook)(
        file="copy_" + workbook.file,
        sha256=workbook.sha256,
        township_code=workbook.township_code,
        rows=workbook.rows,
    )
    signals(warehouse, HOUSING_C)
    warehouse.begin()
    report = update_alerts(warehouse, load_rules(), TUE, [workbook, copy])
    warehouse.commit()
    assert report.verified == 1
    assert report.feedback_rejected == []
    assert report.feedback_files == {workbook.file: "applied", copy.file: "unchanged"}
