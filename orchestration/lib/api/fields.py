"""The kinds of JSON value a raw column can be read from, and how each one is checked.

`Field(key, kind, required)` names a JSON key and its kind; `read` returns the value converted for
the raw table, None when it is absent and optional, or raises PullFailed with the place and the key:
"video_list item 3 (id 123): field `view_count` is missing", "...: `likes` is negative (-1)".
Blank text counts as absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pandas as pd


class PullFailed(RuntimeError):
    """A response without a documented field, or a contract failure (the message names where)."""


@dataclass(frozen=True)
class Field:
    key: str  # JSON key in the response object
    kind: str  # count | signed (count) | number | text | id (numeric) | epoch (seconds) | date (YYYY-MM-DD)
    required: bool = False  # absent is an error; otherwise None

    def __post_init__(self) -> None:
        if self.kind not in _CONVERTERS:
            raise ValueError(f"unknown field kind {self.kind!r} (known: {', '.join(_CONVERTERS)})")


def read(obj: dict, spec: Field, where: str):
    """The value of `spec` in `obj`, converted; None when absent and optional (blank text is absent)."""
    value = obj.get(spec.key)
    if value is None or (spec.kind in ("text", "date") and isinstance(value, str) and not value.strip()):
        if spec.required:
            raise PullFailed(f"{where}: field `{spec.key}` is missing")
        return None
    return _CONVERTERS[spec.kind](value, f"{where}: `{spec.key}`")


def read_list(obj: dict, key: str, where: str, required: bool = False) -> list[dict]:
    """A list of objects under `key` (absent and optional: empty)."""
    value = obj.get(key)
    if value is None:
        if required:
            raise PullFailed(f"{where}: field `{key}` is missing")
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise PullFailed(f"{where}: `{key}` is not a list of objects")
    return value


# Converters get a present value and `what` ("<where>: `<key>`") for their error messages.


def _count(value, what: str, signed: bool = False) -> int:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise PullFailed(f"{what} is not a whole number")
    if value < 0 and not signed:
        raise PullFailed(f"{what} is negative ({value})")
    return value


def _number(value, what: str) -> float:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise PullFailed(f"{what} is not a number") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PullFailed(f"{what} is not a number")
    return float(value)


def _text(value, what: str) -> str:
    if not isinstance(value, str | int):
        raise PullFailed(f"{what} is not text")
    return str(value)


def _id(value, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).isdigit():
        raise PullFailed(f"{what} is not a numeric id")
    return str(value)


def _epoch(value, what: str) -> pd.Timestamp:
    """UTC epoch seconds, as an integer or a string of digits (Business client models differ)."""
    return pd.Timestamp(datetime.fromtimestamp(_count(value, what), UTC).replace(tzinfo=None))


def _date(value, what: str) -> pd.Timestamp:
    try:
        return pd.Timestamp(date.fromisoformat(_text(value, what)[:10]))
    except ValueError:
        raise PullFailed(f"{what} is not a YYYY-MM-DD date") from None


_CONVERTERS = {
    "count": _count,
    "signed": lambda value, what: _count(value, what, signed=True),
    "number": _number,
    "text": _text,
    "id": _id,
    "epoch": _epoch,
    "date": _date,
}
