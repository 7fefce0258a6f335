"""What a quarantine reason tells the user to do about a file that something other than TikTok changed.

TikTok sends each section as a ZIP of CSV or XLSX files: a ZIP inside a ZIP (downloads zipped together to share
them) is no export the reader opens, so the reason says to unzip the outer one and drop the ZIPs it holds as they
are: once an inner ZIP's bytes land as a file of their own, its entry's quarantine ends
(`run_summary._quarantine_states`; its CSV files unzipped in turn land too, but are other bytes, which end nothing).

Calibrated on what TikTok sends (the project brief's tiktok-formats.md, section 1): a Studio date is a month name
and a day, never a year nor a number alone ("April 12", "12 de abril", "4月12日"). A spreadsheet that opens the
CSV turns it into a date of its own: saved again it writes `12-Apr`, `4/12/2026`, `12.04.2026`, an XLSX date cell
(read back as `2026-04-12 00:00:00`) or, once the cell lost its format, an Excel serial number (`46124`). Such a
value gets the advice; a TikTok date in a UI language not supported yet ("12 kwietnia") does not.
"""

from __future__ import annotations

import re

from orchestration.lib.studio.dates import UnknownDateText, parse_month_day

SPREADSHEET_DATE = (
    "a date as a spreadsheet rewrites it, not as TikTok writes it ('April 12'): download the file again from "
    'TikTok Studio, or, if you edited it in a spreadsheet, keep the dates as TikTok wrote them and save it as "CSV '
    'UTF-8"'
)

# 4/12/2026, 04/12/26, 12.04.2026, 12.04., 2026-04-12, 2026/4/12, 4/12; a time after it (an XLSX date cell)
_NUMERIC = re.compile(
    r"\d{1,4}([./-])\d{1,2}(?:\1\d{1,4})?\.?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[ap]\.?m\.?)?)?", re.I
)
_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")  # days since 1899-12-30: 46124 is 12 April 2026
# "Sunday, April 12, 2026", "12 April 2026", "12 de abril de 2026": a Studio date with a weekday or a year added
_WITH_YEAR = re.compile(r"(?:[^\W\d_]+,\s*)?(.+?)[,\s]+(?:de\s+)?\d{4}")


def not_an_export(member: str, suffix: str, original: str, inbox_path: str) -> str:
    """The `file_type` reason of a file that is neither CSV nor XLSX; for a ZIP inside a ZIP, how to land it."""
    if suffix != ".zip":
        return f"{member!r} is not a Studio export (.csv or .xlsx expected)"
    folder = inbox_path.rpartition("/")[0]
    return (
        f"{member!r} is a ZIP inside the ZIP {original!r}: unzip {original!r} and drop the ZIPs it holds, as they are, "
        f"into {f'inbox/{folder}/' if folder else 'the inbox'} instead (each one landed ends its entry's quarantine)"
    )


def spreadsheet_date(text: str) -> bool:
    """Whether a date no Studio locale reads looks like a spreadsheet's rewrite of one (see above)."""
    text = text.strip()
    if _NUMERIC.fullmatch(text) or _SERIAL.fullmatch(text):
        return True
    # 12-Apr, Apr-12, 12-Apr-26 (a spreadsheet's d-mmm, mmm-d, d-mmm-yy): a month name of any supported locale
    candidates = [" ".join(text.split("-")[:2])] if text.count("-") in (1, 2) else []
    if with_year := _WITH_YEAR.fullmatch(text):
        candidates.append(with_year[1])
    for candidate in candidates:
        try:
            parse_month_day(candidate)
        except UnknownDateText:
            continue
        return True
    return False
