"""The brief's words for numbers: formats as people write them, comparatives chosen by the sign.

Every comparative in the brief comes from here, never from the template's
text, so a figure that changes sign changes the word with it (高于 ↔ 低于,
增长 ↔ 下降, 已超过 ↔ 尚未达到). Comparisons are made **at the precision
shown**: a gap that prints as 0.00 reads 持平, never "高于0.00个百分点".
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

Number = int | float | Decimal

DASH = "—"


def _decimal(value: Number, places: int) -> Decimal:
    quantum = Decimal(1).scaleb(-places)
    rounded = Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP)
    return rounded + 0  # -0.00 → 0.00


def shown(value: Number, places: int) -> Decimal:
    """``value`` as the brief prints it with ``places`` decimals (half up, as people round)."""
    return _decimal(value, places)


def number(value: Number | None, places: int = 2) -> str:
    """Thousands separators and at most ``places`` decimals, trailing zeros dropped: 866,300 · 1,234.5."""
    if value is None:
        return DASH
    text = f"{_decimal(value, places):,.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def wan(value: Number | None, places: int = 2) -> str:
    """An amount in 万元: ``866,300万元``."""
    return DASH if value is None else f"{number(value, places)}万元"


def percent(rate: Number | None, places: int = 2) -> str:
    """A fraction as a percentage with fixed decimals: 0.3266 → ``32.66%``."""
    return DASH if rate is None else f"{_decimal(Decimal(str(rate)) * 100, places):.{places}f}%"


def points(gap_pp: Number | None, places: int = 2) -> str:
    """A gap in percentage points, without its sign: ``15.16个百分点``."""
    return DASH if gap_pp is None else f"{abs(_decimal(gap_pp, places)):.{places}f}个百分点"


def signed(value: Number | None, places: int = 2) -> str:
    """A gap with its sign, for tables: ``+16.00`` · ``-2.00`` · ``0.00``."""
    if value is None:
        return DASH
    rounded = _decimal(value, places)
    return f"{'+' if rounded > 0 else ''}{rounded:.{places}f}"


def sign_at(value: Number, places: int) -> int:
    """-1, 0 or 1: the sign of ``value`` as printed with ``places`` decimals."""
    rounded = _decimal(value, places)
    return (rounded > 0) - (rounded < 0)


def gap_to(reference: str, gap_pp: Number | None, places: int = 2) -> str:
    """``高于全省平均15.16个百分点`` / ``低于…`` / ``与全省平均持平``, by the sign of the gap."""
    if gap_pp is None:
        return f"暂无{reference}可比"
    sign = sign_at(gap_pp, places)
    if sign == 0:
        return f"与{reference}持平"
    return f"{'高于' if sign > 0 else '低于'}{reference}{points(gap_pp, places)}"


def growth(rate: Number | None, places: int = 2, *, basis: str = "同比") -> str:
    """``同比增长32.66%`` / ``同比下降5.00%`` / ``与上年同期持平``; ``rate`` is a fraction."""
    if rate is None:
        return "上年同期无可比数据"
    sign = sign_at(Decimal(str(rate)) * 100, places)
    if sign == 0:
        return "与上年同期持平"
    return f"{basis}{'增长' if sign > 0 else '下降'}{percent(abs(Decimal(str(rate))), places)}"


def rank(position: int | None, count: int | None, *, scope: str = "全省", top: str = "最高", tied: bool = False) -> str:
    """``列全省第1位（全省最高）`` … ``列全省第13位（全省最低）``; ``top`` is what rank 1 means.

    ``top`` is 最高 for amounts and growth, 最快 for speed; the last rank takes
    its opposite. A rank shared with another city reads 并列.
    """
    if position is None or count is None:
        return f"暂无{scope}排名"
    bottom = OPPOSITES[top]
    tie = "并列" if tied else ""
    text = f"列{scope}{tie}第{position}位"
    if count > 1 and position == 1:
        text += f"（{scope}{top}）"
    elif count > 1 and position == count:
        text += f"（{scope}{bottom}）"
    return text


OPPOSITES = {"最高": "最低", "最快": "最慢", "最多": "最少", "最大": "最小"}


def against(value: Number | None, reference: Number | None, what: str, places: int = 2) -> str:
    """``已超过上年全年总量`` / ``已达到…`` / ``尚未达到…``: ``value`` measured against ``reference``."""
    if value is None or reference is None:
        return f"{what}暂无数据"
    difference = sign_at(Decimal(str(value)) - Decimal(str(reference)), places)
    if difference > 0:
        return f"已超过{what}"
    if difference == 0:
        return f"已达到{what}"
    return f"尚未达到{what}"


def more_or_less(value: Number, reference: Number, places: int = 2) -> str:
    """``高于`` / ``低于`` / ``持平于`` of ``value`` against ``reference`` at the precision shown."""
    sign = sign_at(Decimal(str(value)) - Decimal(str(reference)), places)
    return "高于" if sign > 0 else "低于" if sign < 0 else "持平于"


def count_list(counts: dict[str, int], unit: str = "个", *, largest_first: bool = True) -> str:
    """``征地拆迁3个、要素保障2个``: the non-zero counts, largest first (ties in the given order),
    or in the given order when that order means something (已批复, 报批中, 编制中, 未启动)."""
    ordered = [(name, n) for name, n in counts.items() if n]
    if largest_first:
        ordered.sort(key=lambda item: -item[1])
    return "、".join(f"{name}{n}{unit}" for name, n in ordered)


def months_label(month: int) -> str:
    """``1-7月`` (``1月`` for January): the span a Jan–M cumulative covers."""
    return "1月" if month == 1 else f"1-{month}月"
