"""Grades and alert statuses: one order, one label each, wherever they are used."""

from __future__ import annotations

import pytest

from pipeline.alerts.lifecycle import raised_grade, rank
from pipeline.alerts.rules import load_rules
from pipeline.vocabulary import (
    DELIVERY_LABELS,
    GRADE_LABELS,
    GRADES,
    IN_FORCE,
    NOT_READ,
    OPEN_STATUSES,
    AlertStatus,
    DeliveryStatus,
    Grade,
)


def test_grades_read_most_severe_first_with_their_chinese_labels():
    assert GRADES == ("red", "orange", "yellow")
    assert list(GRADE_LABELS.items()) == [("red", "红色"), ("orange", "橙色"), ("yellow", "黄色")]
    assert set(load_rules().verify_within_working_days) == set(GRADES)


@pytest.mark.parametrize(
    ("grade", "raised"), [("yellow", "orange"), ("orange", "red"), ("red", "red")]
)
def test_a_grade_rises_one_step_and_red_stays_red(grade, raised):
    assert raised_grade(grade) == raised
    assert rank(raised) >= rank(grade)
    assert Grade(grade).raised() == Grade(raised)


def test_open_means_new_open_or_escalated():
    assert {"new", "open", "escalated"} == OPEN_STATUSES
    assert [status.is_open for status in AlertStatus] == [True, True, True, False]


def test_delivery_statuses_and_the_words_the_bureau_reads_for_them():
    assert [status.value for status in DeliveryStatus] == [
        "staged",
        "loaded",
        "unchanged",
        "missing",
        "incomplete",
        "rejected",
    ]
    assert DELIVERY_LABELS["incomplete"] == "未完成（缺标记）"
    assert {"staged", "loaded", "unchanged"} == IN_FORCE
    assert {"missing", "incomplete", "rejected"} == NOT_READ
