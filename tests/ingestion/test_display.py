"""Values shown to departments (citydw.display): never Python, numbers as people write them."""

from __future__ import annotations

import datetime as dt
import decimal

import numpy as np
import pandas as pd
import pytest

from citydw.display import for_people


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ((np.float64(-0.0), np.float64(2183.47)), "0 / 2,183.47"),  # issue 11.3, as the clerk saw it
        (np.float64(-0.0), "0"),
        (12345678.5, "12,345,678.5"),
        (np.float64(1e20), "100,000,000,000,000,000,000"),
        (0.30000000000000004, "0.3"),
        (2022, "2022"),
        (np.int64(123456), "123,456"),
        (decimal.Decimal("12345.678900"), "12,345.6789"),
        (True, "是"),
        (np.bool_(False), "否"),
        (pd.Timestamp("2022-03-15"), "2022-03-15"),
        (dt.datetime(2022, 3, 15, 9, 30), "2022-03-15 09:30:00"),
        (np.datetime64("2022-03-15"), "2022-03-15"),
        ("＝1+1 原样", "＝1+1 原样"),
        ({"a": 1.5}, "a：1.5"),
        (None, None),
        (float("nan"), None),
        (pd.NA, None),
        (pd.NaT, None),
    ],
)
def test_values_are_shown_as_a_person_writes_them(value, shown):
    assert for_people(value) == shown


def test_no_python_survives_formatting():
    for value in [(np.float64(1.5), np.int64(2)), [np.float32(0.25)], np.float64(float("inf")), (pd.Timestamp(0),)]:
        text = for_people(value)
        assert text is not None and "np." not in text and "Timestamp" not in text and "(" not in text
