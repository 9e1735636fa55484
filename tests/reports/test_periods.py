"""Report periods: codes, French labels, the previous period, the default quarter, and the
refusals (bad input, arbitrary ranges where only whole periods are allowed)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports.periods import (
    CUSTOM,
    MONTH,
    QUARTER,
    YEAR,
    Period,
    PeriodError,
    is_closed,
    last_closed_quarter,
    last_full_quarter,
    parse_period,
    require_closed,
    require_whole,
)


@pytest.mark.parametrize(
    ("text", "start", "end", "kind", "label"),
    [
        ("2026-Q3", date(2026, 7, 1), date(2026, 10, 1), QUARTER, "3e trimestre 2026"),
        ("2026-q1", date(2026, 1, 1), date(2026, 4, 1), QUARTER, "1er trimestre 2026"),
        ("2026-T4", date(2026, 10, 1), date(2027, 1, 1), QUARTER, "4e trimestre 2026"),
        ("2026Q2", date(2026, 4, 1), date(2026, 7, 1), QUARTER, "2e trimestre 2026"),
        ("2026-07", date(2026, 7, 1), date(2026, 8, 1), MONTH, "juillet 2026"),
        ("2026-8", date(2026, 8, 1), date(2026, 9, 1), MONTH, "août 2026"),
        ("2026-12", date(2026, 12, 1), date(2027, 1, 1), MONTH, "décembre 2026"),
        (" 2026 ", date(2026, 1, 1), date(2027, 1, 1), YEAR, "année 2026"),
    ],
)
def test_whole_periods_are_read_with_their_french_label(text, start, end, kind, label):
    period = parse_period(text)
    assert (period.start, period.end, period.kind, period.label) == (start, end, kind, label)
    assert period.is_whole


def test_a_code_reads_back_into_the_same_period():
    for text in ("2026-Q3", "2026-07", "2026", "2026-07-01..2026-07-15"):
        period = parse_period(text, allow_custom=True)
        assert period.code == text
        assert parse_period(period.code, allow_custom=True) == period


def test_a_range_of_days_includes_both_days_for_staff_views():
    period = parse_period("2026-07-01..2026-07-15", allow_custom=True)
    assert (period.start, period.end, period.kind) == (date(2026, 7, 1), date(2026, 7, 16), CUSTOM)
    assert period.days == 15
    assert period.label == "du 1er juillet 2026 au 15 juillet 2026"
    assert parse_period("2026-07-01/2026-07-01", allow_custom=True).label == "le 1er juillet 2026"


def test_a_range_that_is_a_whole_quarter_is_that_quarter():
    period = Period.between(date(2026, 7, 1), date(2026, 9, 30))
    assert period == Period.of_quarter(2026, 3)
    assert Period.between(date(2026, 2, 1), date(2026, 2, 28)).kind == MONTH
    assert Period.between(date(2026, 1, 1), date(2026, 12, 31)).kind == YEAR
    # Three months that are not a calendar quarter stay a custom range.
    assert Period.between(date(2026, 2, 1), date(2026, 4, 30)).kind == CUSTOM


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Indiquez une période"),
        ("2026-Q5", "le trimestre va de 1 à 4"),
        ("2026-Q0", "le trimestre va de 1 à 4"),
        ("2026-13", "le mois va de 01 à 12"),
        ("2026-00", "le mois va de 01 à 12"),
        ("1999", "l'année doit être comprise entre 2000 et 2100"),
        ("T3 2026", "illisible"),
        ("juillet 2026", "illisible"),
        ("2026-07-01", "illisible"),
    ],
)
def test_bad_periods_are_refused_with_a_clear_message(text, message):
    with pytest.raises(PeriodError, match=message):
        parse_period(text)


def test_an_arbitrary_range_is_refused_where_only_whole_periods_are_allowed():
    with pytest.raises(PeriodError, match="mois, trimestres ou années entiers"):
        parse_period("2026-07-01..2026-07-15")
    with pytest.raises(PeriodError, match="mois, trimestres ou années entiers"):
        require_whole(Period.between(date(2026, 7, 1), date(2026, 7, 15)))
    assert require_whole(parse_period("2026-Q3")) == Period.of_quarter(2026, 3)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-02-30..2026-03-02", "une des dates n'existe pas"),
        ("2026-07-15..2026-07-01", "la date de fin est avant la date de début"),
    ],
)
def test_bad_ranges_are_refused_with_a_clear_message(text, message):
    with pytest.raises(PeriodError, match=message):
        parse_period(text, allow_custom=True)


def test_the_previous_period_has_the_same_length():
    assert parse_period("2026-Q1").previous() == Period.of_quarter(2025, 4)
    assert parse_period("2026-01").previous() == Period.of_month(2025, 12)
    assert parse_period("2026-03").previous() == Period.of_month(2026, 2)
    assert parse_period("2026").previous() == Period.of_year(2025)
    custom = parse_period("2026-07-10..2026-07-19", allow_custom=True)
    assert custom.previous() == Period(date(2026, 6, 30), date(2026, 7, 10), CUSTOM)


@pytest.mark.parametrize(
    ("today", "quarter"),
    [
        (date(2026, 10, 1), "2026-Q3"),
        (date(2026, 12, 31), "2026-Q3"),
        (date(2026, 1, 1), "2025-Q4"),
        (date(2026, 3, 31), "2025-Q4"),
        (date(2026, 4, 1), "2026-Q1"),
    ],
)
def test_the_default_period_is_the_last_full_quarter(today, quarter):
    assert last_full_quarter(today).code == quarter


def test_months_of_a_period_are_clipped_to_it():
    period = parse_period("2026-07-20..2026-09-05", allow_custom=True)
    assert period.months() == ["2026-07", "2026-08", "2026-09"]
    assert period.month_ranges()[0] == ("2026-07", date(2026, 7, 20), date(2026, 8, 1))
    assert period.month_ranges()[-1] == ("2026-09", date(2026, 9, 1), date(2026, 9, 6))


def test_bounds_follow_the_time_zone_of_the_place():
    start, end = parse_period("2026-07").bounds_in("Indian/Reunion")
    assert start.astimezone(UTC) == datetime(2026, 6, 30, 20, 0, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 7, 31, 20, 0, tzinfo=UTC)


@given(st.dates(min_value=date(2001, 1, 1), max_value=date(2099, 12, 31)))
def test_the_last_full_quarter_ends_on_or_before_today_and_is_the_latest(today):
    quarter = last_full_quarter(today)
    assert quarter.kind == QUARTER
    assert quarter.end <= today
    # Today is in the quarter that follows it: that one is not over yet.
    current = Period.of_quarter(quarter.end.year, (quarter.end.month - 1) // 3 + 1)
    assert current.start == quarter.end
    assert current.start <= today < current.end


@given(st.integers(2000, 2100), st.integers(1, 12))
def test_any_month_reads_back_from_its_code(year, month):
    period = Period.of_month(year, month)
    assert parse_period(period.code) == period
    assert period.previous().end == period.start


@pytest.mark.parametrize(
    ("code", "today", "closed"),
    [
        ("2026-09", date(2026, 10, 5), False),
        ("2026-09", date(2026, 10, 6), True),
        ("2026-Q4", date(2027, 1, 5), False),
        ("2026-Q4", date(2027, 1, 6), True),
        ("2026", date(2027, 1, 6), True),
        ("2026-12", date(2026, 12, 15), False),
    ],
)
def test_a_period_is_closed_grace_days_after_its_end(settings, code, today, closed):
    settings.REPORTS_GRACE_DAYS = 5
    assert is_closed(parse_period(code), today) is closed


@pytest.mark.parametrize(
    ("today", "quarter"),
    [
        (date(2027, 1, 5), "2026-Q3"),
        (date(2027, 1, 6), "2026-Q4"),
        (date(2026, 12, 3), "2026-Q3"),
        (date(2026, 4, 1), "2025-Q4"),
    ],
)
def test_the_default_anonymised_period_is_the_last_closed_quarter(settings, today, quarter):
    settings.REPORTS_GRACE_DAYS = 5
    assert last_closed_quarter(today).code == quarter


def test_a_period_not_closed_says_from_when_its_report_is_available(settings):
    settings.REPORTS_GRACE_DAYS = 5
    with pytest.raises(PeriodError) as error:
        require_closed(parse_period("2026-Q4"), date(2026, 12, 3))
    assert str(error.value).startswith("Le 4e trimestre 2026 n'est pas encore clos : ")
    assert "bilan anonymisé disponible à partir du 6 janvier 2027" in str(error.value)
