"""How clerks write values: dates in half a dozen forms, numbers as text.

Each function returns what goes into one cell: a ``str`` to be written as
text, a ``float`` as a number, or a ``date`` as a real Excel date. All the
forms are ones DEPARTMENTS.md promises the readers will cope with, and every
one of them reads back to the same value (month-only forms are used only for
dates that are the 1st of their month).
"""

from __future__ import annotations

import random
from datetime import date

from citydw.city import District

_FULL_WIDTH = str.maketrans("0123456789.,-%", "０１２３４５６７８９．，－％")

DATE_STYLES: tuple[str, ...] = ("iso", "slash", "cn_day", "dot_month", "cn_month", "excel")
"""Every form a date is written in; ``dot_month`` and ``cn_month`` drop the day."""
DAY_STYLES: tuple[str, ...] = ("iso", "slash", "cn_day", "excel")
"""The forms that keep the day, for dates that are not the 1st of a month."""

Cell = str | float | date | None


def full_width(text: str) -> str:
    """``1234.5`` as a clerk with a Chinese input method left in full-width mode types it."""
    return text.translate(_FULL_WIDTH)


def write_date(day: date, style: str) -> str | date:
    if style == "excel":
        return day
    if style == "iso":
        return day.isoformat()
    if style == "slash":
        return f"{day.year}/{day.month}/{day.day}"
    if style == "cn_day":
        return f"{day.year}年{day.month}月{day.day}日"
    if day.day != 1:
        raise ValueError(f"{day}: a month-only style ({style}) would lose the day")
    if style == "dot_month":
        return f"{day.year}.{day.month:02d}"
    if style == "cn_month":
        return f"{day.year}年{day.month}月"
    raise ValueError(f"unknown date style {style!r}; known: {', '.join(DATE_STYLES)}")


def pick_date_style(rng: random.Random, usual: str, day: date, mixed: bool) -> str:
    """The month's usual style, now and then another when the sheet was pasted together."""
    styles = DATE_STYLES if day.day == 1 else DAY_STYLES
    style = usual if usual in styles else "iso"
    draw, other = rng.random(), rng.choice(styles)
    return other if mixed and draw < 0.15 else style


def write_amount(value: float, decimals: int, form: str) -> str | float:
    """An amount as a number, or as text the way it was typed or pasted.

    ``form``: ``number``; ``thousands`` (1,234.50); ``full_width``
    (１２３４．５０); ``spaced`` (" 1234.50 ", pasted from a web page).
    """
    if form == "number":
        return value
    text = f"{value:,.{decimals}f}" if form == "thousands" else f"{value:.{decimals}f}"
    if decimals > 2:  # amounts in 亿元 keep all their places; no trailing zeros
        text = text.rstrip("0").rstrip(".")
    if form == "thousands":
        return text
    if form == "full_width":
        return full_width(text)
    if form == "spaced":
        return f" {text} "
    raise ValueError(f"unknown amount form {form!r}")


AMOUNT_TEXT_FORMS: tuple[str, ...] = ("thousands", "full_width", "spaced")


def period(month: date) -> str:
    """How a title or header names the months so far: "1月", "1-7月"."""
    return "1月" if month.month == 1 else f"1-{month.month}月"


def district_text(district: District, style: str, rng: random.Random) -> str:
    """A district as a clerk writes it: ``full`` (江都区), ``short`` (江都) or ``mixed`` (now one, now the other)."""
    short = style == "short" or (style == "mixed" and rng.random() < 0.4)
    return (district.short_name or district.name) if short else district.name


def percent_text(value: float, decimals: int, form: str) -> str | float:
    """A percentage: ``number`` (85.2), ``sign`` ("85.2%") or ``full_width`` ("８５．２％")."""
    if form == "number":
        return round(value, decimals)
    text = f"{value:.{decimals}f}%"
    return full_width(text) if form == "full_width" else text
