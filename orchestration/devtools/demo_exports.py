"""Deterministic generator of realistic TikTok Studio "Download data" exports, for demos and benchmarks.

`generate_demo_inbox()` simulates a few creator accounts (their daily numbers, followers, videos) and a
user downloading the four Studio sections on most days, then writes the files exactly as they would
land in the inbox: ZIPs named the way TikTok names them, every quirk of the real format included (see
`/work/shared/tiktok-formats.md` section 1 and `samples/`).

Same arguments -> byte-identical files (ZIP entry timestamps included) and identical mtimes. Randomness
comes only from `random.Random` instances seeded with strings (stable across processes; never `hash()`).

Choices worth knowing (the real format leaves them open):
- Export moments are naive UTC wall-clock times. The ZIP entry timestamp (`ZipInfo.date_time`), the
  epoch in the Overview name and the file mtime describe the same moment, as in the real sample (entry
  09:37 for a 09:37 UTC download). Users download between 07:00 and 21:00 UTC; the export date is the
  UTC date, and Content's `Time` column shows it.
- Downloads of the same name do not overwrite each other: the way a browser's Downloads folder keeps
  them, the second `Content_<handle>.zip` becomes `Content_<handle> (1).zip` and so on (Chrome style).
  `dated_folders=True` instead drops each export day's ZIPs into `inbox/<YYYY-MM-DD>/` under their
  original names (a user who sorts downloads by day); a repeat on the same day is still `(1)`.
- Bare files (no ZIP, so no handle in the name) sit in `inbox/<handle>/` or `inbox/<handle>/<YYYY-MM-DD>/`.
- Year-less dates come from CLDR through babel (`format_skeleton("MMMMd")`): Vietnamese is therefore
  "18 tháng 8" (CLDR), not the "18 tháng Tám" some real exports show.
- The simulated numbers do not depend on `variety`: only the download behaviour does.
"""

from __future__ import annotations

import argparse
import bisect
import heapq
import math
import os
import random
import struct
import sys
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from babel import Locale
from babel.dates import format_skeleton

from schemas.studio_files import STUDIO_FILE_KINDS

# --------------------------------------------------------------------------------------------------
# Format facts
# --------------------------------------------------------------------------------------------------

BOM = "\ufeff"
UNDEFINED = "undefined"

# The exact headers, spelled once in the format spec the landing code also reads.
OVERVIEW_HEADER = STUDIO_FILE_KINDS["overview"].header
VIEWERS_HEADER = STUDIO_FILE_KINDS["viewers"].header
FOLLOWER_HISTORY_HEADER = STUDIO_FILE_KINDS["follower_history"].header
FOLLOWER_ACTIVITY_HEADER = STUDIO_FILE_KINDS["follower_activity"].header
FOLLOWER_GENDER_HEADER = STUDIO_FILE_KINDS["follower_gender"].header
FOLLOWER_TERRITORIES_HEADER = STUDIO_FILE_KINDS["follower_territories"].header
CONTENT_HEADER = STUDIO_FILE_KINDS["content"].header

# UI languages, cycled over accounts (account 1 en_US, 2 es, 3 en_GB, ...).
LOCALE_CYCLE = ("en_US", "es", "en_GB", "pt_BR", "fr", "de", "it", "ru", "vi", "ja", "ko", "zh", "id", "tr")
NAMED_ACCOUNTS = (("techcreator", "tech"), ("maria.cocina", "cooking"), ("le_petit_chef", "chef"))

HEADER_ONLY_BELOW_FOLLOWERS = 100  # audience files come back empty for small accounts
XLSX_INNER_TIME = (1980, 1, 1, 0, 0, 0)  # SheetJS writes no real timestamps inside the workbook

TERRITORIES = {
    "en_US": ("US", "CA", "GB", "AU", "PH", "IN", "MX", "DE", "NG", "BR", "PK", "ZA"),
    "es": ("ES", "MX", "AR", "CO", "US", "CL", "PE", "VE", "EC", "DO", "GT", "UY"),
    "en_GB": ("GB", "FR", "US", "IE", "BE", "CA", "AU", "DE", "ES", "NL", "CH", "IT"),
    "pt_BR": ("BR", "PT", "US", "AO", "MZ", "JP", "PY", "AR", "ES", "FR", "IT", "CH"),
    "fr": ("FR", "BE", "CA", "CH", "MA", "DZ", "TN", "CI", "SN", "US", "LU", "CM"),
    "de": ("DE", "AT", "CH", "US", "NL", "PL", "TR", "IT", "GB", "FR", "LU", "BE"),
    "it": ("IT", "CH", "US", "DE", "ES", "FR", "GB", "AR", "BR", "AL", "BE", "SM"),
    "ru": ("RU", "KZ", "BY", "UA", "UZ", "KG", "DE", "US", "IL", "AM", "GE", "AZ"),
    "vi": ("VN", "US", "AU", "JP", "KR", "TW", "CA", "DE", "FR", "KH", "SG", "MY"),
    "ja": ("JP", "US", "TW", "KR", "HK", "TH", "PH", "SG", "ID", "MY", "BR", "VN"),
    "ko": ("KR", "US", "JP", "CA", "AU", "TW", "PH", "VN", "TH", "ID", "SG", "MY"),
    "zh": ("TW", "HK", "MY", "SG", "US", "CA", "AU", "MO", "JP", "TH", "GB", "NZ"),
    "id": ("ID", "MY", "SG", "PH", "US", "BN", "TW", "HK", "JP", "SA", "NL", "AU"),
    "tr": ("TR", "DE", "AZ", "NL", "FR", "AT", "US", "BE", "GB", "CY", "CH", "RU"),
}

# Titles carry the real quirks: emoji, doubled quotes, double and trailing spaces, "..." endings.
TITLES = {
    "tech": (
        "iPhone 17 Pro vs Pixel 10 camera test 📱",
        "This $20 gadget changed my desk setup 🔥",
        "Why your laptop is slow (and how to fix it)",
        'He said "it\'s just a phone" 😂',
        "POV: you finally clean your keyboard ⌨️ ",
        "Top 5 apps you NEED in 2026 #tech #apps",
        "unboxing the new  mechanical keyboard",
        "Wait for it... 🤯",
        "Replying to @sam_dev yes it runs Linux 🐧",
        "Building a PC for my little brother part 3 ...",
        'The "AI" button nobody uses 🤖 #fyp',
        "battery hack that actually works 🔋  ",
        "Is the Steam Deck 2 worth it? 🎮",
        "MacBook setup tour 2026 ✨ #desksetup",
        "3 settings to change on every new phone",
        "Cable management for people who hate cable management ...",
    ),
    "cooking": (
        "Tortilla de patatas en 5 minutos 🥔🍳",
        'La receta "secreta" de mi abuela 👵❤️',
        "Churros caseros crujientes #receta #cocina",
        "¿Con cebolla o sin cebolla? 🤔",
        "Paella valenciana auténtica (no lleva chorizo) ",
        "Flan de huevo sin horno 🍮",
        "Respuesta a @luisa_m: sí, se puede congelar",
        "Gazpacho andaluz 🍅  en 3 pasos",
        "Croquetas de jamón como las de mamá ...",
        "Lo que como en un día 🥗 #comidasana",
        "Pan sin amasar 🍞 ¡solo 4 ingredientes!",
        'Mi marido dijo "esto no es tortilla" 😂',
        "Turrón casero para Navidad 🎄",
        "Roscón de Reyes paso a paso 👑",
        "Empanadas gallegas 🥟 ",
        "Arroz con leche cremoso... el truco final",
    ),
    "chef": (
        "Perfect croissants at home 🥐",
        'Gordon would say "it\'s RAW" 😅',
        "Sunday roast for two 🇬🇧",
        "5-minute crème brûlée hack ...",
        "Knife skills 101 🔪 ",
        "Tarte Tatin like in Paris #frenchfood",
        "Beef bourguignon, but make it quick 🍷",
        "the  easiest quiche lorraine",
        "Mince pies from scratch 🎄",
        'My "lazy" ratatouille 🍆',
        "Soufflé that does NOT collapse 🙏",
        "Full English, French way ☕️",
        "Macarons attempt #3... 😭",
        "Onion soup gratinée 🧅🧀",
    ),
    "generic": (
        "Day in my life ✨",
        "Wait for the end 😂",
        'When your mom says "we have food at home" 🙃',
        "Part 2 ...",
        "GRWM for a date 💄",
        "Trying the viral trend 🔥 #fyp #viral",
        "Storytime: the worst job interview ever",
        "3 things I wish I knew at 20 ",
        "Morning routine 5AM ☀️",
        "Replying to @alex reaction 👀",
        "outfit check  🧥",
        "This sound is stuck in my head 🎶",
        "Honest review... not sponsored",
        "New year, new me? 🎆",
    ),
}

TITLE_SUFFIXES = ("", "", "", "", " #fyp", " pt. 2", " (part 3)", " 🔥", " #viral", " #foryou")

# --------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------


class _YearlessDates:
    """Year-less "month + day" strings in a UI language, from CLDR (babel), cached per date."""

    def __init__(self, locale: str) -> None:
        self._locale = Locale.parse(locale)
        self._cache: dict[date, str] = {}

    def __call__(self, d: date) -> str:
        text = self._cache.get(d)
        if text is None:
            text = self._cache[d] = format_skeleton("MMMMd", d, locale=self._locale)
        return text


def yearless_date(d: date, locale: str) -> str:
    """`date(2026, 3, 8)`, "es" -> "8 de marzo"; the way Studio prints dates in that UI language."""
    return format_skeleton("MMMMd", d, locale=Locale.parse(locale))


def _csv_bytes(header: Sequence[str], lines: Sequence[str]) -> bytes:
    """Studio's dialect: UTF-8 BOM, every field quoted, LF, no newline after the last row.

    `lines` are already rendered (`_line`), so a day's line is built once and shared by every export
    that shows it.
    """
    return (BOM + "\n".join((_line(header), *lines))).encode("utf-8")


def _dos_time(moment: Sequence[int]) -> tuple[int, int]:
    year, month, day, hour, minute, second = moment[:6]
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


def _zip_bytes(members: Sequence[tuple[str, bytes]], moment: Sequence[int]) -> bytes:
    """A ZIP with its entries stored (no compression), each stamped with `moment` (local date_time).

    Written directly (a ZIP of stored entries is three fixed headers) because the benchmark writes
    100,000 of them. Header fields as in the real exports (version made by 2.0 / MS-DOS, needed 1.0,
    no flags, no extra fields); the DOS time keeps seconds in steps of two, so an entry can read one
    second earlier than the epoch in the Overview name.
    """
    dos_time, dos_date = _dos_time(moment)
    local_parts, central_parts = [], []
    offset = 0
    for name, data in members:
        encoded = name.encode("ascii")
        crc = zlib.crc32(data)
        size = len(data)
        local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 10, 0, 0, dos_time, dos_date, crc, size, size, len(encoded), 0)
        central_parts.append(
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                20,  # made by: version 2.0, MS-DOS attributes (as in the real files)
                10,  # needed to extract: 1.0, stored
                0,
                0,
                dos_time,
                dos_date,
                crc,
                size,
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
        local_parts += (local, encoded, data)
        offset += len(local) + len(encoded) + size
    central = b"".join(central_parts)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), offset, 0)
    return b"".join((*local_parts, central, end))


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


_XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"


def _xlsx_bytes(sheet_name: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    """A workbook shaped like Studio's (SheetJS): one sheet named after the file, every cell text."""
    all_rows = (header, *rows)
    width = len(header)
    ref = f"A1:{_column_letter(width - 1)}{len(all_rows)}"
    cells = []
    for r, row in enumerate(all_rows, start=1):
        row_cells = "".join(
            f'<c r="{_column_letter(c)}{r}" t="str"><v>{_xml_escape(value)}</v></c>' for c, value in enumerate(row)
        )
        cells.append(f'<row r="{r}">{row_cells}</row>')
    sheet = (
        f'{_XML_DECL}<worksheet xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}"><dimension ref="{ref}"/>'
        '<sheetViews><sheetView workbookViewId="0"/></sheetViews>'
        f"<sheetData>{''.join(cells)}</sheetData>"
        f'<ignoredErrors><ignoredError numberStoredAsText="1" sqref="{ref}"/></ignoredErrors></worksheet>'
    )
    workbook = (
        f'{_XML_DECL}<workbook xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}"><workbookPr codeName="ThisWorkbook"/>'
        f'<sheets><sheet name="{_xml_escape(sheet_name)}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    styles = (
        f'{_XML_DECL}<styleSheet xmlns="{_NS_MAIN}"><fonts count="1"><font><sz val="12"/>'
        '<name val="Calibri"/><family val="2"/></font></fonts><fills count="2"><fill><patternFill '
        'patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
    )
    workbook_rels = (
        f'{_XML_DECL}<Relationships xmlns="{_NS_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{_NS_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_NS_REL}/styles" Target="styles.xml"/></Relationships>'
    )
    root_rels = (
        f'{_XML_DECL}<Relationships xmlns="{_NS_PKG_REL}">'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/'
        'metadata/core-properties" Target="docProps/core.xml"/>'
        f'<Relationship Id="rId3" Type="{_NS_REL}/extended-properties" Target="docProps/app.xml"/>'
        f'<Relationship Id="rId1" Type="{_NS_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    app = (
        f"{_XML_DECL}<Properties xmlns="
        '"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" xmlns:vt='
        '"http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><Application>SheetJS'
        '</Application><HeadingPairs><vt:vector size="2" baseType="variant"><vt:variant><vt:lpstr>'
        "Worksheets</vt:lpstr></vt:variant><vt:variant><vt:i4>1</vt:i4></vt:variant></vt:vector>"
        '</HeadingPairs><TitlesOfParts><vt:vector size="1" baseType="lpstr"><vt:lpstr>'
        f"{_xml_escape(sheet_name)}</vt:lpstr></vt:vector></TitlesOfParts></Properties>"
    )
    core = (
        f"{_XML_DECL}<cp:coreProperties xmlns:cp="
        '"http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
    )
    ct = "application/vnd.openxmlformats-officedocument"
    content_types = (
        f'{_XML_DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.spreadsheetml.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.spreadsheetml.worksheet+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{ct}.spreadsheetml.styles+xml"/>'
        '<Override PartName="/docProps/core.xml" '
        'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        f'<Override PartName="/docProps/app.xml" ContentType="{ct}.extended-properties+xml"/></Types>'
    )
    parts = (
        ("xl/_rels/workbook.xml.rels", workbook_rels),
        ("xl/styles.xml", styles),
        ("xl/worksheets/sheet1.xml", sheet),
        ("xl/workbook.xml", workbook),
        ("_rels/.rels", root_rels),
        ("docProps/app.xml", app),
        ("docProps/core.xml", core),
        ("[Content_Types].xml", content_types),
    )
    return _zip_bytes([(name, text.encode("utf-8")) for name, text in parts], XLSX_INNER_TIME)


def _fraction(x: float) -> str:
    return repr(round(x, 3))


# --------------------------------------------------------------------------------------------------
# Simulated account history (independent of how it is downloaded)
# --------------------------------------------------------------------------------------------------


@dataclass
class _Video:
    video_id: str
    title: str
    post_at: datetime
    final_views: float
    tau: float  # days until ~63% of the non-tail views
    tail: float  # evergreen views per day after the burst
    like_rate: float
    comment_rate: float
    share_rate: float
    # a moderation sweep: from `removed_at` on, the counters are lower (fake likes/views removed)
    removed_at: datetime | None = None
    removed_likes: float = 0.0
    removed_views: float = 0.0
    removed_comments: float = 0.0

    post_day: float = field(init=False)  # post moment in days since 1970, the simulation's time axis
    week_burst: float = field(init=False)  # final_views * (e^(7/tau) - 1), for the 7-day growth

    def __post_init__(self) -> None:
        self.post_day = _days(self.post_at)
        self.week_burst = self.final_views * (math.exp(7.0 / self.tau) - 1.0)

    def views_after(self, days: float) -> float:
        """Lifetime views `days` after posting: a burst that saturates, plus an evergreen tail."""
        if days <= 0:
            return 0.0
        return self.final_views * (1.0 - math.exp(-days / self.tau)) + self.tail * days

    def week_growth(self, days: float) -> float:
        """views_after(days) - views_after(days - 7), for days >= 7, with one exp."""
        return self.week_burst * math.exp(-days / self.tau) + 7.0 * self.tail

    def totals(self, at: datetime) -> tuple[int, int, int, int]:
        """Lifetime (likes, comments, shares, views) as Studio shows them at the moment `at`."""
        views = self.views_after(_days(at) - self.post_day)
        likes, comments, shares = views * self.like_rate, views * self.comment_rate, views * self.share_rate
        if self.removed_at is not None and at >= self.removed_at:
            likes *= 1.0 - self.removed_likes
            comments *= 1.0 - self.removed_comments
            views *= 1.0 - self.removed_views
        return int(likes), int(comments), int(shares), int(views)


@dataclass
class _Account:
    index: int
    handle: str
    locale: str
    topic: str
    sim_start: date
    born: date  # first day with analytics; earlier days are zero rows / "undefined"
    viewers_since: date  # Viewers shows "undefined" totals before this day
    dates: _YearlessDates
    views: list[int] = field(default_factory=list)
    profile_views: list[int] = field(default_factory=list)
    likes: list[int] = field(default_factory=list)
    comments: list[int] = field(default_factory=list)
    shares: list[int] = field(default_factory=list)
    new_viewers: list[int] = field(default_factory=list)
    returning_viewers: list[int] = field(default_factory=list)
    followers: list[int | None] = field(default_factory=list)
    activity: list[list[int]] = field(default_factory=list)
    revise_depth: list[int] = field(default_factory=list)  # 1..3 most recent days are provisional
    revise_amount: list[float] = field(default_factory=list)
    videos: list[_Video] = field(default_factory=list)
    post_days: list[float] = field(default_factory=list)  # videos' post_day, for bisect
    gender_base: tuple[float, float, float] = (0.5, 0.45, 0.05)
    territory_weights: tuple[float, ...] = ()
    cache: dict[tuple, str] = field(default_factory=dict)  # rendered CSV lines, shared by exports

    def i(self, d: date) -> int:
        return (d - self.sim_start).days


_EPOCH = datetime(1970, 1, 1)


def _epoch(moment: datetime) -> int:
    """Seconds since 1970 of a naive UTC datetime (what the Overview ZIP name carries)."""
    return (moment - _EPOCH) // timedelta(seconds=1)


def _days(moment: datetime) -> float:
    return (moment - _EPOCH) / timedelta(days=1)


def _video_id(post_at: datetime, rng: random.Random) -> str:
    # TikTok ids carry the post time in their top 32 bits: 19 digits for any 2020s date.
    return str((_epoch(post_at) << 32) | rng.getrandbits(32))


def _simulate_account(
    index: int, handle: str, topic: str, seed: int, sim_start: date, first_day: date, end_date: date
) -> _Account:
    rng = random.Random(f"tiktok-demo:{seed}:{handle}:history")
    locale = LOCALE_CYCLE[index % len(LOCALE_CYCLE)]
    n_days = (end_date - sim_start).days + 1
    span = (end_date - first_day).days + 1

    # Size and behaviour. The three named accounts are fixed archetypes; the rest are drawn.
    if handle == "techcreator":
        followers0, reach, posts_per_day, born_offset = 12_000, 9_000.0, 0.9, None
    elif handle == "maria.cocina":
        followers0, reach, posts_per_day, born_offset = 2_400, 2_500.0, 0.6, None
    elif handle == "le_petit_chef":  # brand-new, below 100 followers for its first weeks
        followers0, reach, posts_per_day, born_offset = 6, 140.0, 0.5, min(6, span // 4)
    else:
        followers0 = int(math.exp(rng.uniform(math.log(40), math.log(400_000))))
        reach = 150.0 + followers0 * rng.uniform(0.3, 1.2)
        posts_per_day = rng.uniform(0.2, 1.3)
        born_offset = rng.randrange(0, max(1, span // 3)) if rng.random() < 0.08 else None
    born = first_day + timedelta(days=born_offset) if born_offset is not None else sim_start - timedelta(90)
    viewers_since = max(born + timedelta(days=1), first_day - timedelta(days=rng.randrange(3, 15)))
    territories = TERRITORIES[locale]
    weights = sorted((rng.uniform(0.2, 1.0) / (k + 1) ** 1.1 for k in range(len(territories))), reverse=True)
    female = rng.uniform(0.3, 0.75)
    account = _Account(
        index=index,
        handle=handle,
        locale=locale,
        topic=topic,
        sim_start=sim_start,
        born=born,
        viewers_since=viewers_since,
        dates=_YearlessDates(locale),
        gender_base=(female, 1.0 - female - 0.02, 0.02),
        territory_weights=tuple(weights),
    )

    # Videos: an older catalogue (still trickling views) plus the posts made during the simulation.
    titles = TITLES[topic]
    like_rate, comment_rate, share_rate = (
        rng.uniform(0.05, 0.12),
        rng.uniform(0.002, 0.01),
        rng.uniform(0.001, 0.006),
    )

    def new_video(post_at: datetime, reach_now: float) -> _Video:
        final = max(60.0, reach_now * math.exp(rng.gauss(0.0, 0.9)))
        if rng.random() < 0.03:
            final *= rng.uniform(8, 25)  # a hit
        title = "" if rng.random() < 0.08 else rng.choice(titles) + rng.choice(TITLE_SUFFIXES)
        return _Video(
            video_id=_video_id(post_at, rng),
            title=title,
            post_at=post_at,
            final_views=final,
            tau=rng.uniform(1.2, 4.0),
            tail=final * rng.uniform(0.0005, 0.004),
            like_rate=like_rate * rng.uniform(0.6, 1.5),
            comment_rate=comment_rate * rng.uniform(0.5, 1.8),
            share_rate=share_rate * rng.uniform(0.4, 2.0),
        )

    def post_moment(d: date) -> datetime:
        return datetime(d.year, d.month, d.day, rng.randrange(9, 22), rng.randrange(60), rng.randrange(60))

    if born < sim_start:
        for _ in range(rng.randrange(8, 15)):
            d = sim_start - timedelta(days=rng.randrange(5, 240))
            account.videos.append(new_video(post_moment(d), reach))
    for i in range(n_days):
        d = sim_start + timedelta(days=i)
        if d < born:
            continue
        growth = 1.0 + 0.6 * i / n_days
        for _ in range(int(posts_per_day) + (rng.random() < posts_per_day % 1)):
            account.videos.append(new_video(post_moment(d), reach * growth))
    account.videos.sort(key=lambda v: v.post_at)
    account.post_days = [v.post_day for v in account.videos]

    # Moderation sweeps: a few young videos lose likes (and one also views) a couple of days after posting.
    recent = [v for v in account.videos if first_day + timedelta(days=3) <= v.post_at.date() <= end_date - timedelta(6)]
    for k, video in enumerate(rng.sample(recent, min(3, len(recent)))):
        video.removed_at = video.post_at + timedelta(hours=rng.uniform(36, 96))
        video.removed_likes = rng.uniform(0.4, 0.55)
        video.removed_comments = rng.uniform(0.1, 0.3) if k == 1 else 0.0
        video.removed_views = rng.uniform(0.3, 0.4) if k == 2 else 0.0
    for video in account.videos:  # some titles keep a trailing space
        if video.title and rng.random() < 0.05:
            video.title += " "

    # Daily account totals: the sum of each video's daily gain plus off-video background traffic.
    views = [0.0] * n_days
    sim_day = _days(datetime(sim_start.year, sim_start.month, sim_start.day))
    tails = [0.0] * (n_days + 1)  # evergreen views/day starting that day (summed below)
    for video in account.videos:
        start = max(0, (video.post_at.date() - sim_start).days)
        age = sim_day - video.post_day + start + 1  # age at the end of the first simulated day
        views[start] += video.views_after(age) - video.views_after(age - 1)  # the (partial) first day
        tails[start + 1] += video.tail
        # the burst decays geometrically day by day; stop once it is worth less than a view
        decay = math.exp(-1.0 / video.tau)
        burst = video.final_views * math.exp(-age / video.tau)
        for i in range(start + 1, n_days):
            if burst < 0.01:
                break
            views[i] += burst * (1.0 - decay)
            burst *= decay
    tail = 0.0
    for i in range(n_days):
        tail += tails[i]
        views[i] += tail
    born_i = (born - sim_start).days
    pv_rate = rng.uniform(0.015, 0.05)
    follow_rate = 0.012 if handle == "le_petit_chef" else rng.uniform(0.0015, 0.006)
    churn = rng.uniform(0.0002, 0.0012)
    new_share = rng.uniform(0.55, 0.85)
    unique_rate = rng.uniform(0.55, 0.8)
    peak = rng.uniform(18, 21)  # evening peak, circular distance over the day
    hour_profile = [0.15 + 0.85 * math.exp(-(min(abs(h - peak), 24 - abs(h - peak)) ** 2) / 18.0) for h in range(24)]
    active_share = rng.uniform(0.05, 0.2)
    followers: int | None = None
    for i in range(n_days):
        if i < born_i:
            for series in (
                account.views,
                account.profile_views,
                account.likes,
                account.comments,
                account.shares,
            ):
                series.append(0)
            account.new_viewers.append(0)
            account.returning_viewers.append(0)
            account.followers.append(None)
            account.activity.append([0] * 24)
        else:
            weekday = (sim_start + timedelta(days=i)).weekday()
            noise = math.exp(rng.gauss(0.0, 0.12)) * (1.08 if weekday >= 5 else 1.0)
            v = int(views[i] * noise + reach * 0.05 * rng.random())
            pv = int(v * pv_rate * math.exp(rng.gauss(0, 0.2)))
            account.views.append(v)
            account.profile_views.append(pv)
            account.likes.append(int(v * like_rate * math.exp(rng.gauss(0, 0.15))))
            account.comments.append(int(v * comment_rate * math.exp(rng.gauss(0, 0.3))))
            account.shares.append(int(v * share_rate * math.exp(rng.gauss(0, 0.4))))
            total = int(v * unique_rate)
            new = int(total * new_share * rng.uniform(0.9, 1.1))
            new = min(new, total)
            account.new_viewers.append(new)
            account.returning_viewers.append(total - new)
            if followers is None:
                followers = followers0
            else:
                gained = int(v * follow_rate * math.exp(rng.gauss(0, 0.3)) + rng.random())
                lost = int(followers * churn * rng.uniform(0.0, 4.0) + rng.random() * 1.2)
                followers = max(0, followers + gained - lost)
            account.followers.append(followers)
            account.activity.append([int(followers * active_share * p * rng.uniform(0.85, 1.15)) for p in hour_profile])
        account.revise_depth.append(rng.choice((1, 1, 2, 2, 3)))
        account.revise_amount.append(rng.uniform(0.02, 0.12))
    return account


# --------------------------------------------------------------------------------------------------
# One download of one section -> file bytes
# --------------------------------------------------------------------------------------------------


def _provisional(account: _Account, i: int, age: int) -> float:
    """Factor applied to day `i` as seen `age` days later: < 1 for the 1-3 most recent days, then 1."""
    depth = account.revise_depth[i]
    if age > depth:
        return 1.0
    return 1.0 - account.revise_amount[i] * (depth - age + 1) / depth


def _window(export_day: date, lag: int, length: int) -> list[date]:
    last = export_day - timedelta(days=lag)
    return [last - timedelta(days=k) for k in range(length - 1, -1, -1)]


def _line(fields: Sequence[str]) -> str:
    """One CSV line with every field quoted. Fields must not contain '"' (see `_quote`)."""
    return '"' + '","'.join(fields) + '"'


def _quote(text: str) -> str:
    return text.replace('"', '""')


def _overview_lines(account: _Account, export_day: date, days: list[date], undefined_last: bool) -> list[str]:
    lines = []
    cache = account.cache
    for d in days:
        i = account.i(d)
        age = (export_day - d).days
        stage = age if age <= account.revise_depth[i] else 0  # every settled age renders the same
        key = ("overview", i, stage)
        line = cache.get(key)
        if line is None:
            f = _provisional(account, i, age)
            line = cache[key] = _line(
                (
                    account.dates(d),
                    str(int(account.views[i] * f)),
                    str(int(account.profile_views[i] * f)),
                    str(int(account.likes[i] * f)),
                    str(int(account.comments[i] * f)),
                    str(int(account.shares[i] * f)),
                )
            )
        lines.append(line)
    if undefined_last and lines and days[-1] >= account.born:
        fields = lines[-1][1:-1].split('","')
        fields[2] = UNDEFINED  # Profile Views not computed yet; a later export fills it in
        lines[-1] = _line(fields)
    return lines


def _viewers_rows(account: _Account, export_day: date, days: list[date]) -> list[list[str]]:
    rows = []
    for d in days:
        i = account.i(d)
        if d < account.viewers_since:
            rows.append([account.dates(d), UNDEFINED, "0", "0"])
            continue
        f = _provisional(account, i, (export_day - d).days)
        new = int(account.new_viewers[i] * f)
        returning = int(account.returning_viewers[i] * (f + (1.0 - f) * 0.4))
        rows.append([account.dates(d), str(new + returning), str(new), str(returning)])
    return rows


def _follower_history_lines(account: _Account, days: list[date]) -> list[str]:
    lines = []
    cache = account.cache
    for d in days:
        i = account.i(d)
        line = cache.get(("history", i))
        if line is None:
            if d <= account.born:  # the first day with data still shows "undefined"
                fields = (account.dates(d), UNDEFINED, "0")
            elif d == account.born + timedelta(days=1):
                fields = (account.dates(d), str(account.followers[i]), "0")
            else:
                difference = account.followers[i] - account.followers[i - 1]
                fields = (account.dates(d), str(account.followers[i]), str(difference))
            line = cache[("history", i)] = _line(fields)
        lines.append(line)
    return lines


def _follower_activity_lines(account: _Account, last: date, computed_hours: int) -> list[str]:
    """The 7 days ending `last`, 24 hours each; `last` only has its first `computed_hours` hours."""
    blocks = []
    for k in range(6, -1, -1):
        d = last - timedelta(days=k)
        i = account.i(d)
        hours = 24 if k else computed_hours
        key = ("activity", i, hours)
        block = account.cache.get(key)
        if block is None:
            label = account.dates(d)
            activity = account.activity[i]
            block = account.cache[key] = "\n".join(
                f'"{label}","{hour}","{activity[hour] if hour < hours else 0}"' for hour in range(24)
            )
        blocks.append(block)
    return blocks


def _audience_rows(account: _Account, export_day: date) -> tuple[list[list[str]], list[list[str]]]:
    followers = account.followers[account.i(export_day - timedelta(days=1))]
    if followers is None or followers < HEADER_ONLY_BELOW_FOLLOWERS:
        return [], []
    drift = math.sin(account.i(export_day) / 23.0 + account.index) * 0.02
    female, male, other = account.gender_base
    female += drift
    male -= drift
    gender = [["Female", _fraction(female)], ["Male", _fraction(male)], ["Other", _fraction(other)]]
    territories = TERRITORIES[account.locale]
    weights = [
        w * (1.0 + 0.06 * math.sin(account.i(export_day) / 9.0 + k)) for k, w in enumerate(account.territory_weights)
    ]
    total = sum(weights) / 0.82  # the top 10 cover ~75-85% of the audience
    ranked = sorted(zip(weights, territories, strict=True), reverse=True)[:10]
    top = [[code, _fraction(w / total)] for w, code in ranked]
    others = max(0.001, 1.0 - sum(round(w / total, 3) for w, _ in ranked))
    return gender, [*top, ["Others", _fraction(others)]]


def _content_lines(account: _Account, export_at: datetime, n_rows: int) -> list[str]:
    """Recent posts (last 7 days) plus the older ones still growing fastest, newest post first."""
    now = _days(export_at)
    videos = account.videos  # sorted by post time
    posted = bisect.bisect_right(account.post_days, now)
    week_old = bisect.bisect_right(account.post_days, now - 7.0)
    recent = videos[week_old:posted]
    older = [(-v.week_growth(now - v.post_day), v.video_id, v) for v in videos[:week_old]]
    fastest = heapq.nsmallest(max(0, n_rows - len(recent)), older)
    chosen = recent[-n_rows:] + [video for _, _, video in fastest]
    chosen.sort(key=lambda v: v.post_at, reverse=True)
    snapshot = account.dates(export_at.date())
    lines = []
    for video in chosen:
        likes, comments, shares, views = video.totals(export_at)
        link = f"https://www.tiktok.com/@{account.handle}/video/{video.video_id}"
        fields = (snapshot, _quote(video.title), link, account.dates(video.post_at.date()))
        lines.append(_line((*fields, str(likes), str(comments), str(shares), str(views))))
    return lines


# --------------------------------------------------------------------------------------------------
# The user's downloads
# --------------------------------------------------------------------------------------------------


@dataclass
class _Session:
    """Everything one account's user downloaded on one day."""

    day: date
    start: datetime
    lag: int = 1
    window: int = 7
    overview: bool = True
    followers: bool = True
    viewers: bool = True
    content: bool = True
    second_overview: int | None = None  # window length of an extra Overview download minutes later
    identical_overview_again: bool = False  # same window again (like the real sample pair)
    redownload: str | None = None  # section re-downloaded byte-identically ("Overview", "Content")
    viewers_xlsx: bool = False
    undefined_last: bool = False
    bare: list[tuple[str, str, bool]] = field(default_factory=list)  # (section, file name, dated?)


def _plan_sessions(account: _Account, first_day: date, end_date: date, seed: int, variety: bool) -> list[_Session]:
    rng = random.Random(f"tiktok-demo:{seed}:{account.handle}:downloads")
    start_day = max(first_day, account.born + timedelta(days=2))
    days = [start_day + timedelta(days=k) for k in range((end_date - start_day).days + 1)]
    if not days:
        return []
    sessions = []
    if not variety:
        for d in days:
            start = datetime(d.year, d.month, d.day, rng.randrange(8, 20), rng.randrange(60), rng.randrange(60))
            sessions.append(_Session(day=d, start=start))
        return sessions

    # a holiday gap for the second account (over New Year when the range crosses it): more than 7 days,
    # so that week's FollowerActivity is lost for good
    holiday: set[date] = set()
    if account.index == 1 and len(days) > 40:
        new_years = [d for d in days if d.month == 1 and d.day == 1]
        gap_end = new_years[0] if new_years else days[len(days) // 2]
        holiday = {gap_end - timedelta(days=k) for k in range(1, 10)}
    gap = 0
    for n, d in enumerate(days):
        last = d == end_date
        if not last and n > 0 and (d in holiday or rng.random() < 0.07):
            gap += 1
            continue
        start = datetime(d.year, d.month, d.day, rng.randrange(7, 21), rng.randrange(60), rng.randrange(60))
        session = _Session(
            day=d,
            start=start,
            lag=1 if rng.random() < 0.7 else 2,
            window=28 if (gap >= 2 or n == 0 or rng.random() < 0.25) else 7,
            followers=rng.random() < 0.92 or last,
            viewers=rng.random() < 0.88 or last,
            content=rng.random() < 0.85 or last,
            undefined_last=account.index == 0 and rng.random() < 0.12,
            viewers_xlsx=account.index == 1 and rng.random() < 0.25,
        )
        if session.lag == 1 and rng.random() < 0.07:
            session.second_overview = 7 if session.window == 28 else 28
        if rng.random() < 0.03:
            session.identical_overview_again = True
        sessions.append(session)
        gap = 0

    # Fixed quirks for the named accounts, placed at stable points of their history.
    def pick(fraction: float, need: str | None = None) -> _Session:
        candidates = [s for s in sessions if need is None or getattr(s, need)]
        return candidates[min(len(candidates) - 1, int(len(candidates) * fraction))]

    if account.index == 0:
        pick(0.3, "content").redownload = "Content"  # browser "download again": byte-identical
        pick(0.55, "content").bare.append(("Content", "Content 2.csv", False))  # same bytes, bare
        pick(0.9, "viewers").bare.append(("Viewers", "Viewers (1).csv", True))  # dated folder
        pick(0.7).second_overview = 28 if pick(0.7).window == 7 else 7
    elif account.index == 1:
        pick(0.4).redownload = "Overview"
        pick(0.65, "content").bare.append(("Content", "Content 2.csv", True))  # rows reordered
        pick(0.2).identical_overview_again = True
    elif account.index == 2:
        sessions[0].window = 28  # reaches back before the account had data: zero rows, "undefined"
        pick(0.5, "content").bare.append(("Content", "Content 2.csv", False))
    return sessions


@dataclass(frozen=True)
class DemoSummary:
    inbox: Path
    files_written: int
    bytes_written: int
    accounts: tuple[str, ...]
    locales: tuple[str, ...]  # UI language of each account, same order
    first_day: date  # first day of the simulated download period
    last_day: date  # = end_date, the last download day


class _Writer:
    """Writes files, naming repeats like a browser does, and stamps mtimes with the export moment."""

    def __init__(self, inbox: Path) -> None:
        self.inbox = inbox
        self.seen: dict[Path, int] = {}
        self.files = 0
        self.bytes = 0
        self.made: set[Path] = set()

    def write(self, folder: Path, name: str, data: bytes, moment: datetime) -> Path:
        key = folder / name
        count = self.seen.get(key, 0)
        self.seen[key] = count + 1
        if count:
            stem, dot, ext = name.rpartition(".")
            name = f"{stem} ({count}).{ext}" if dot else f"{name} ({count})"
        if folder not in self.made:
            folder.mkdir(parents=True, exist_ok=True)
            self.made.add(folder)
        path = folder / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, data)
            stamp = _epoch(moment)
            os.utime(fd, (stamp, stamp))
        finally:
            os.close(fd)
        self.files += 1
        self.bytes += len(data)
        return path


def _overview_zip(account: _Account, s: _Session, window: int, at: datetime) -> tuple[str, list]:
    days = _window(s.day, s.lag, window)
    lines = _overview_lines(account, s.day, days, s.undefined_last)
    epoch = _epoch(at)
    name = f"Overview_{days[0].isoformat()}_{epoch}_{account.handle}.zip"
    return name, [("Overview.csv", _csv_bytes(OVERVIEW_HEADER, lines))]


def _followers_members(account: _Account, s: _Session, computed_hours: int) -> list[tuple[str, bytes]]:
    days = _window(s.day, s.lag, s.window)
    gender, territories = _audience_rows(account, s.day)
    history = _follower_history_lines(account, days)
    activity = _follower_activity_lines(account, days[-1], computed_hours)
    return [
        ("FollowerHistory.csv", _csv_bytes(FOLLOWER_HISTORY_HEADER, history)),
        ("FollowerActivity.csv", _csv_bytes(FOLLOWER_ACTIVITY_HEADER, activity)),
        ("FollowerGender.csv", _csv_bytes(FOLLOWER_GENDER_HEADER, [_line(r) for r in gender])),
        (
            "FollowerTopTerritories.csv",
            _csv_bytes(FOLLOWER_TERRITORIES_HEADER, [_line(r) for r in territories]),
        ),
    ]


def _viewers_members(account: _Account, s: _Session) -> list[tuple[str, bytes]]:
    rows = _viewers_rows(account, s.day, _window(s.day, s.lag, s.window))
    if s.viewers_xlsx:  # what some accounts get although they chose CSV
        return [("Viewers.xlsx", _xlsx_bytes("Viewers", VIEWERS_HEADER, rows))]
    return [("Viewers.csv", _csv_bytes(VIEWERS_HEADER, [_line(r) for r in rows]))]


@dataclass
class _Download:
    name: str
    data: bytes
    at: datetime
    members: list[tuple[str, bytes]]


def _write_session(account: _Account, s: _Session, writer: _Writer, rng: random.Random, dated_folders: bool) -> None:
    """The clicks of one day: Overview (maybe twice), then Followers, Viewers, Content, then repeats."""
    zip_folder = writer.inbox / s.day.isoformat() if dated_folders else writer.inbox
    made: dict[str, _Download] = {}

    def drop(section: str, name: str, members: list[tuple[str, bytes]], at: datetime) -> None:
        data = _zip_bytes(members, (at.year, at.month, at.day, at.hour, at.minute, at.second))
        writer.write(zip_folder, name, data, at)
        made[section] = _Download(name, data, at, members)

    handle = account.handle
    moment = s.start
    drop("Overview", *_overview_zip(account, s, s.window, moment), moment)
    if s.identical_overview_again:  # the same window two minutes later: same CSV, another ZIP
        at = moment + timedelta(seconds=rng.randrange(90, 150))
        drop("Overview", *_overview_zip(account, s, s.window, at), at)
    if s.second_overview:  # the other window length: overlapping rows
        at = moment + timedelta(seconds=rng.randrange(160, 400))
        drop("Overview", *_overview_zip(account, s, s.second_overview, at), at)
    moment += timedelta(seconds=rng.randrange(400, 500))
    if s.followers:
        moment += timedelta(seconds=rng.randrange(15, 120))
        drop(
            "Followers",
            f"Followers_{handle}.zip",
            _followers_members(account, s, rng.randrange(6, 21)),
            moment,
        )
    if s.viewers:
        moment += timedelta(seconds=rng.randrange(15, 120))
        drop("Viewers", f"Viewers_{handle}.zip", _viewers_members(account, s), moment)
    if s.content:
        moment += timedelta(seconds=rng.randrange(15, 120))
        content = _csv_bytes(CONTENT_HEADER, _content_lines(account, moment, rng.randrange(12, 16)))
        drop("Content", f"Content_{handle}.zip", [("Content.csv", content)], moment)
    if s.redownload and s.redownload in made:  # "download again": the very same bytes
        again = made[s.redownload]
        writer.write(zip_folder, again.name, again.data, again.at + timedelta(seconds=rng.randrange(60, 180)))
    for section, bare_name, dated in s.bare:
        if section not in made:
            continue
        download = made[section]
        data = download.members[0][1]
        if section == "Content" and dated:  # a re-download that came back in another row order
            header, *lines = data.decode("utf-8")[1:].split("\n")
            rng.shuffle(lines)
            data = (BOM + "\n".join([header, *lines])).encode("utf-8")
        folder = writer.inbox / handle / s.day.isoformat() if dated else writer.inbox / handle
        writer.write(folder, bare_name, data, download.at + timedelta(seconds=rng.randrange(5, 40)))


def _write_account(
    account: _Account, sessions: list[_Session], writer: _Writer, seed: int, dated_folders: bool
) -> None:
    rng = random.Random(f"tiktok-demo:{seed}:{account.handle}:clicks")
    for session in sessions:
        _write_session(account, session, writer, rng, dated_folders)


def account_handles(accounts: int) -> list[tuple[str, str]]:
    """(handle, topic) per account: three named ones, then acct0001, acct0002, ..."""
    named = list(NAMED_ACCOUNTS[:accounts])
    extra = [(f"acct{n:04d}", "generic") for n in range(1, accounts - len(named) + 1)]
    return named + extra


def generate_demo_inbox(
    inbox: Path,
    *,
    accounts: int = 3,
    days: int = 130,
    end_date: date = date(2026, 2, 20),
    seed: int = 7,
    variety: bool = True,
    dated_folders: bool = False,
) -> DemoSummary:
    """Write `accounts` accounts' worth of `days` days of Studio downloads into `inbox`.

    The default (3 accounts, 130 days to 2026-02-20) runs 2025-10-14 -> 2026-02-20, across New Year.
    `variety=False` gives plain regular drops for benchmarks: every day, each account, one download of
    each of the four sections with a 7-day window ending yesterday, CSV only.
    """
    if accounts < 1 or days < 1:
        raise ValueError("accounts and days must be >= 1")
    inbox = Path(inbox)
    inbox.mkdir(parents=True, exist_ok=True)
    first_day = end_date - timedelta(days=days - 1)
    sim_start = first_day - timedelta(days=40)  # room for a 28-day window on the first day
    writer = _Writer(inbox)
    handles, locales = [], []
    for index, (handle, topic) in enumerate(account_handles(accounts)):
        account = _simulate_account(index, handle, topic, seed, sim_start, first_day, end_date)
        sessions = _plan_sessions(account, first_day, end_date, seed, variety)
        _write_account(account, sessions, writer, seed, dated_folders)
        handles.append(handle)
        locales.append(account.locale)
    return DemoSummary(
        inbox=inbox,
        files_written=writer.files,
        bytes_written=writer.bytes,
        accounts=tuple(handles),
        locales=tuple(locales),
        first_day=first_day,
        last_day=end_date,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.devtools.demo_exports",
        description="Write simulated TikTok Studio downloads into an inbox folder (deterministic).",
    )
    parser.add_argument("--inbox", type=Path, required=True)
    parser.add_argument("--accounts", type=int, default=3)
    parser.add_argument("--days", type=int, default=130)
    parser.add_argument("--end-date", type=date.fromisoformat, default=date(2026, 2, 20))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--plain", action="store_true", help="regular daily drops, no quirks (benchmarks)")
    parser.add_argument("--dated-folders", action="store_true", help="ZIPs in inbox/<YYYY-MM-DD>/")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    summary = generate_demo_inbox(
        args.inbox,
        accounts=args.accounts,
        days=args.days,
        end_date=args.end_date,
        seed=args.seed,
        variety=not args.plain,
        dated_folders=args.dated_folders,
    )
    elapsed = time.perf_counter() - started
    shown = ", ".join(f"{h} ({loc})" for h, loc in zip(summary.accounts[:5], summary.locales[:5], strict=False))
    more = f" and {len(summary.accounts) - 5} more" if len(summary.accounts) > 5 else ""
    print(
        f"wrote {summary.files_written} files ({summary.bytes_written / 1e6:.1f} MB) into {summary.inbox} "
        f"in {elapsed:.1f}s\naccounts: {shown}{more}\n"
        f"downloads from {summary.first_day} to {summary.last_day}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
