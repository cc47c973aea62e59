"""Report months ↔ the monthly schedule's logical dates, as ``citydw backfill`` asks Airflow for them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from citydw.backfill import BackfillError, backfill_body
from citydw.cluster import logical_date_for_month
from citydw.months import month_range
from citydw.orchestration import report_month_for_run

SHANGHAI = timezone(timedelta(hours=8))


def test_a_month_is_the_run_on_the_12th_of_the_next_month_at_six():
    assert logical_date_for_month(date(2022, 7, 1)) == datetime(2022, 8, 12, 6, tzinfo=SHANGHAI)
    assert logical_date_for_month(date(2022, 12, 1)) == datetime(2023, 1, 12, 6, tzinfo=SHANGHAI)


@pytest.mark.parametrize("month", month_range(date(2021, 11, 1), date(2023, 2, 1)), ids=lambda m: f"{m:%Y-%m}")
def test_the_dag_reports_on_the_month_a_backfill_run_was_made_for(month):
    # A backfill run has no month param: the DAG takes the month before its logical date, in UTC too.
    logical_date = logical_date_for_month(month)
    assert report_month_for_run(None, logical_date) == f"{month:%Y-%m}"
    assert report_month_for_run(None, logical_date.astimezone(UTC)) == f"{month:%Y-%m}"


def test_a_backfill_reruns_every_month_in_order_one_at_a_time():
    body = backfill_body(date(2022, 2, 1), date(2022, 5, 1))
    assert body["from_date"] == "2022-03-12T06:00:00+08:00"
    assert body["to_date"] == "2022-06-12T06:00:00+08:00"
    assert body["reprocess_behavior"] == "completed"
    assert body["max_active_runs"] == 1
    assert body["run_backwards"] is False
    assert body["dag_run_conf"] == {}  # the month comes from the logical date, not from an old trigger's conf


def test_a_range_backwards_is_refused_before_asking_airflow():
    with pytest.raises(BackfillError, match="--to 2022-01 is before --from 2022-03"):
        backfill_body(date(2022, 3, 1), date(2022, 1, 1))
