"""Values as a department reads them: the one formatter for every value put into a message.

Rule results, quarantine rows, correction workbooks, the terminal and the
report all show values that pandas, numpy or Great Expectations handed over
— ``np.float64(-0.0)``, a tuple of two columns' values, ``Timestamp(...)`` —
and a clerk must never see Python. Text is kept exactly as written (it is
what the clerk typed); numbers are written the way people write amounts in
万元: thousands separators (a whole number only from 10,000 up, so a year
stays 2022), no exponent, no trailing zeros, never "-0";
dates as 2022-03-15; yes/no as 是/否; several values (a rule on two columns)
joined with " / ".
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import numbers
from collections.abc import Mapping

import numpy as np
import pandas as pd

DECIMALS = 6
"""Canonical values are rounded to six places (citydw.parsing.values); so are numbers shown."""


SEPARATE_WHOLE_FROM = 10_000
"""Whole numbers get thousands separators from here up: 12,345 户, but the year 2022."""


def number(value: float | int | decimal.Decimal) -> str:
    """A number as people write it: ``1234567.5`` → "1,234,567.5", ``-0.0`` → "0", ``1e20`` without exponent."""
    as_float = float(value)
    if math.isnan(as_float):
        return "非数字（NaN）"
    if math.isinf(as_float):
        return "无穷大" if as_float > 0 else "负无穷大"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):{',' if abs(as_float) >= SEPARATE_WHOLE_FROM else ''}}"
    exact = decimal.Decimal(str(value)) if isinstance(value, decimal.Decimal) else as_float
    text = f"{exact:,.{DECIMALS}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def for_people(value: object) -> str | None:
    """``value`` as text for a department; None for no value (None, NaN, NA, NaT)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return "是" if value else "否"
    if isinstance(value, (numbers.Number, decimal.Decimal)) and not isinstance(value, complex):
        if isinstance(value, (float, np.floating)) and math.isnan(value):
            return None
        return number(value)  # type: ignore[arg-type]
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        moment = value.to_pydatetime() if isinstance(value, pd.Timestamp) else value
        return moment.date().isoformat() if moment.time() == dt.time(0) else moment.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, np.datetime64):
        return for_people(pd.Timestamp(value))
    if isinstance(value, Mapping):
        return " / ".join(f"{key}：{for_people(item) or ''}" for key, item in value.items())
    if isinstance(value, (list, tuple, set, frozenset, np.ndarray)):
        return " / ".join(for_people(item) or "" for item in value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    try:
        return json.dumps(value, ensure_ascii=False)
    except TypeError:
        return str(value)
