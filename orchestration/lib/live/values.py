"""The value shapes LIVE Backstage and LIVE Center write, read to exact numbers.

Each reader takes a cell as a CSV gives it (text) or as openpyxl gives it (int, float, datetime) and
returns the value, None for an empty cell, or raises `ValueError` saying what was expected. Fractions go
through `Decimal`, so `88.46h` is 318456 s and `90.13%` is 0.9013, not a float's neighbour.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

from schemas.live_files import BACKSTAGE_NAME_MOMENT

_EMPTY = frozenset({"", "-", "--", "—", "n/a", "N/A"})
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")  # 1,234,567 or 1,234.5
_PLAIN = re.compile(r"^[+-]?\d+(\.\d+)?$")
_DURATION = re.compile(
    r"^(?:(?P<h>\d+(?:\.\d+)?)\s*h)?\s*(?:(?P<m>\d+(?:\.\d+)?)\s*m(?:in)?)?\s*(?:(?P<s>\d+(?:\.\d+)?)\s*s)?$"
)
_DAYS = re.compile(r"^(\d+)\s*d?$")
_DAY = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")
_MOMENT = re.compile(
    r"^(?P<day>\d{4}[-/]\d{1,2}[-/]\d{1,2})[ T](?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?"
    r"\s*(?:\(?UTC(?P<off>[+-]\d{1,2}(?::?\d{2})?)?\)?)?$"
)


def _text(cell) -> str | None:
    if cell is None:
        return None
    text = str(cell).strip().replace("\u00a0", " ")
    return None if text in _EMPTY else text


def _decimal(text: str) -> Decimal:
    if _GROUPED.match(text):
        text = text.replace(",", "")
    elif not _PLAIN.match(text):
        raise ValueError("not a number")
    return Decimal(text)


def _number_cell(cell) -> Decimal | None:
    if isinstance(cell, bool):
        raise ValueError("not a number")
    if isinstance(cell, int):
        return Decimal(cell)
    if isinstance(cell, float):
        return Decimal(repr(cell))  # the shortest text of the float: 0.94618, not 0.94617999...
    text = _text(cell)
    return None if text is None else _decimal(text)


def read_count(cell) -> int | None:
    """`1,234,567` → 1234567; a whole number, with or without thousands separators."""
    number = _number_cell(cell)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise ValueError("not a whole number")
    return int(number)


def read_decimal(cell) -> float | None:
    """`1,234.5` → 1234.5."""
    number = _number_cell(cell)
    return None if number is None else float(number)


def read_duration_s(cell) -> int | None:
    """`119h 47m 31s` → 431251, `88.46h` → 318456, `45m` → 2700: seconds, rounded to the second."""
    text = _text(cell)
    if text is None:
        return None
    match = _DURATION.match(text.replace(",", ""))
    if match is None or not any(match.groupdict().values()):
        raise ValueError("not a duration such as 119h 47m 31s or 88.46h (a duration needs its unit)")
    seconds = sum(Decimal(match[unit] or 0) * factor for unit, factor in (("h", 3600), ("m", 60), ("s", 1)))
    return int(seconds.to_integral_value())


def read_days(cell) -> int | None:
    """`21d` (or `21`) → 21."""
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return read_count(cell)
    text = _text(cell)
    if text is None:
        return None
    match = _DAYS.match(text)
    if match is None:
        raise ValueError("not a number of days such as 21d")
    return int(match[1])


def read_share(cell) -> float | None:
    """`90.13%` → 0.9013; a bare number (`0.94618`) is already a fraction.

    An XLSX stores a percentage as the fraction and only formats it with `%`, so openpyxl reads 0.94618
    where the CSV of the same export prints `94.62%`.
    """
    text = _text(cell)
    if text is None:
        return None
    if text.endswith("%"):
        return float(_decimal(text[:-1].strip()) / 100)
    number = _number_cell(cell)
    return None if number is None else float(number)


def read_day(cell) -> date | None:
    """`2026-07-01` or `2026/07/01` (LIVE Center's two shapes) → a date."""
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    text = _text(cell)
    if text is None:
        return None
    match = _DAY.match(text)
    if match is None:
        raise ValueError("not a date as yyyy-MM-dd or yyyy/MM/dd")
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError as error:
        raise ValueError(f"not a calendar day ({error})") from None


def read_period(cell) -> tuple[date, date] | None:
    """`2026-07-01 ~ 2026-07-07` → (first day, last day); a single day is a one-day period."""
    if isinstance(cell, date):  # an XLSX date cell (datetime is a date too)
        return read_day(cell), read_day(cell)
    text = _text(cell)
    if text is None:
        return None
    parts = [part.strip() for part in re.split(r"\s*[~～]\s*", text)]
    if len(parts) > 2:
        raise ValueError("not a period such as 2026-07-01 ~ 2026-07-07")
    try:
        days = [read_day(part) for part in parts]
    except ValueError:
        raise ValueError("not a period such as 2026-07-01 ~ 2026-07-07") from None
    if None in days:
        raise ValueError("not a period such as 2026-07-01 ~ 2026-07-07")
    return days[0], days[-1]


def read_utc_moment(cell) -> datetime | None:
    """`2023-08-05 00:11:00 (UTC+0)` → that instant as a naive UTC datetime (Backstage writes UTC+0)."""
    if isinstance(cell, datetime):
        return cell.replace(tzinfo=None)  # an XLSX date cell has no zone: Backstage's are UTC
    text = _text(cell)
    if text is None:
        return None
    match = _MOMENT.match(text)
    if match is None:
        raise ValueError("not a time such as 2023-08-05 00:11:00 (UTC+0)")
    day = read_day(match["day"])
    moment = datetime(day.year, day.month, day.day, int(match["h"]), int(match["mi"]), int(match["s"] or 0))
    return moment - _offset(match["off"])


def _offset(text: str | None) -> timedelta:
    if not text:
        return timedelta(0)
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = (int(digits[:-2]), int(digits[-2:])) if len(digits) > 2 else (int(digits), 0)
    return sign * timedelta(hours=hours, minutes=minutes)


def download_moment(file_name: str) -> datetime | None:
    """The download moment a Backstage file name carries, as naive UTC; None when the name has none."""
    match = BACKSTAGE_NAME_MOMENT.search(file_name)
    if match is None:
        return None
    try:
        local = datetime(int(match["y"]), int(match["mo"]), int(match["d"]), int(match["h"]), int(match["mi"]))
    except ValueError:
        return None
    offset = match["off"] or "0"
    return local - _offset(offset if offset[0] in "+-" else "+" + offset)
