from datetime import date

import pytest

from citydw.calendar import CalendarNotPublished, due_date, is_working_day, working_days_late
from citydw.registry import Due

FIFTH_WORKING_DAY = Due(working_day=5)


@pytest.mark.parametrize(
    ("report_month", "expected"),
    [
        # Spring Festival 2022: 31 Jan–6 Feb off, so February's 5th working day is the 11th.
        (date(2022, 1, 1), date(2022, 2, 11)),
        # National Day 2022: 1–7 Oct off, Sat 8 and Sun 9 Oct are make-up working days.
        (date(2022, 9, 1), date(2022, 10, 12)),
        # An ordinary month: July 2022 → 5th working day of August is Fri 5 Aug.
        (date(2022, 7, 1), date(2022, 8, 5)),
        # Year end rolls into January of the next year (New Year's Day off).
        (date(2022, 12, 1), date(2023, 1, 9)),
    ],
)
def test_due_dates_follow_the_official_calendar(report_month, expected):
    assert due_date(FIFTH_WORKING_DAY, report_month) == expected


def test_make_up_days_work_and_holidays_do_not():
    assert is_working_day(date(2022, 1, 29))  # Saturday, 调休
    assert not is_working_day(date(2022, 2, 4))  # Friday in the Spring Festival


def test_yearly_reference_data_is_due_on_a_fixed_day():
    assert due_date(Due(month_day=(3, 31)), date(2021, 1, 1)) == date(2022, 3, 31)


def test_working_days_late_skips_weekends_and_holidays():
    assert working_days_late(date(2022, 9, 30), date(2022, 10, 8)) == 1  # 1–7 Oct off, 8 Oct works
    assert working_days_late(date(2022, 8, 5), date(2022, 8, 5)) == 0
    assert working_days_late(date(2022, 8, 5), date(2022, 8, 8)) == 1  # weekend, then Monday


def test_unpublished_years_are_an_error_not_a_guess():
    with pytest.raises(CalendarNotPublished, match="2031"):
        is_working_day(date(2031, 3, 3))
