"""Plotly figures (plain data + layout dicts) for each section; plotly.js draws them in the page.

Text a creator typed (video titles) is HTML-escaped before it goes into a figure: plotly.js reads a few HTML
tags in labels, and an escaped title shows literally (plotly decodes the entities back for display).
"""

from __future__ import annotations

import html
from datetime import datetime, time, timedelta
from operator import itemgetter

from orchestration.lib.report.series import Series, groups

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
COLORS = ["#fe2c55", "#25b8c4", "#6c5ce7", "#f39c12", "#2ecc71", "#34495e", "#e67e22", "#95a5a6"]


def _layout(title: str, **extra) -> dict:
    layout = {
        "title": {"text": title},
        "margin": {"l": 60, "r": 60, "t": 50, "b": 40},
        "height": 360,
        "legend": {"orientation": "h", "y": -0.15},
        "hovermode": "x unified",
    }
    layout.update(extra)
    return layout


_DAY_MS = 86_400_000
# plotly aims at 10 ticks at most per axis (axes.prepTicks): over a shorter span its step can fall below 1 (a day)
_FEW = 10


def _moment(value) -> datetime:
    """An ISO text (series.py), a date or a datetime, as a datetime."""
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return value if isinstance(value, datetime) else datetime.combine(value, time())


def _time_axis(values: list, extra: dict | None = None, *, daily: bool = True) -> dict:
    """An x axis of days (or of moments: `daily` false). Over a few days plotly ticks by the hour ("12:00",
    "00:00"), which a day's figure does not have: a day between ticks then, and ticks read as dates. With a single
    distinct value plotly would span a millisecond around it ("23:59:59.9996 … 00:00:00.0004"): a day either
    side instead, ticked by day."""
    axis = {"type": "date", **(extra or {})}
    # the distinct values first, each parsed once: a page's charts share their days (a 300 x 90 report parsed
    # 390,860 values for its axes, 0.27 of its 2.0 s)
    moments = sorted({_moment(value) for value in set(values) if value is not None})
    if len(moments) == 1:
        day = timedelta(days=1)
        axis |= {"range": [(moments[0] - day).isoformat(), (moments[0] + day).isoformat()], "dtick": _DAY_MS}
    elif daily and moments and moments[-1] - moments[0] < timedelta(days=_FEW):
        axis |= {"dtick": _DAY_MS}
    return axis


def _count_axis(values: list, title: str, *, overlaying: bool = False, tozero: bool = False) -> dict:
    """A y axis of whole numbers (followers, views, daily changes): labelled as integers, a step of 1 at least.
    An overlaying axis gets ticks of its own: plotly.js (3+) syncs it to the left axis's grid by default, which
    labels a count −2.7, 0.45, 140.011 and can leave zero out; `tozero` keeps zero in view (changes, bars)."""
    axis = {"title": {"text": title}, "tickformat": ",d", "tickmode": "auto"}
    if overlaying:
        axis |= {"overlaying": "y", "side": "right", "showgrid": False}
    if tozero:
        axis["rangemode"] = "tozero"
    numbers = [value for value in values if value is not None] + ([0] if tozero else [])
    if numbers and max(numbers) - min(numbers) < _FEW:
        axis |= {"tickmode": "linear", "tick0": 0, "dtick": 1}  # plotly's own step would be 0.5 or 0.2
    return axis


def _line_mode(values: list) -> str:
    """Lines, with markers while there are few points: a line through one point draws nothing."""
    return "lines+markers" if len(values) <= 31 else "lines"


def short_title(title: str | None, video_id: str, limit: int = 40) -> str:
    text = (title or "").strip() or f"video {video_id}"
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return html.escape(text, quote=False)


def followers(rows: Series) -> dict:
    days = rows["metric_date"]
    return {
        "data": [
            {
                "type": "bar",
                "name": "net change per day",
                "x": days,
                "y": rows["net_follower_change"],
                "yaxis": "y2",
                "marker": {"color": "#25b8c4"},
                "opacity": 0.6,
            },
            {
                "type": "scatter",
                "mode": _line_mode(days),
                "name": "followers",
                "x": days,
                "y": rows["followers"],
                "line": {"color": "#fe2c55", "width": 2},
            },
        ],
        "layout": _layout(
            "Followers and daily net change",
            xaxis=_time_axis(days),
            yaxis=_count_axis(rows["followers"], "followers"),
            yaxis2=_count_axis(rows["net_follower_change"], "net change", overlaying=True, tozero=True),
        ),
    }


def engagement(rows: Series) -> dict:
    days = rows["metric_date"]
    traces = [
        {
            "type": "scatter",
            "mode": _line_mode(days),
            "name": "views",
            "x": days,
            "y": rows["video_views"],
            "line": {"color": COLORS[0]},
        }
    ]
    for i, metric in enumerate(("likes", "comments", "shares"), start=1):
        traces.append(
            {
                "type": "scatter",
                "mode": _line_mode(days),
                "name": metric,
                "x": days,
                "y": rows[metric],
                "yaxis": "y2",
                "line": {"color": COLORS[i]},
            }
        )
    return {
        "data": traces,
        "layout": _layout(
            "Daily views, likes, comments, shares",
            xaxis=_time_axis(days),
            yaxis=_count_axis(rows["video_views"], "views"),
            yaxis2=_count_axis(
                rows["likes"] + rows["comments"] + rows["shares"],
                "likes · comments · shares",
                overlaying=True,
                tozero=True,
            ),
        ),
    }


def trending(rows: list[dict]) -> dict:
    ordered = list(reversed(rows))  # rank 1 on top of a horizontal bar chart
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "name": "views gained in 7 days",
                "x": [r["views_gained_7d"] for r in ordered],
                "y": [f"#{r['trending_rank']} {short_title(r['video_title'], r['video_id'])}" for r in ordered],
                "marker": {"color": COLORS[0]},
            }
        ],
        "layout": _layout("Trending this week: views gained in 7 days", margin={"l": 280, "r": 20, "t": 50, "b": 40}),
    }


def curves(rows: Series, titles: dict[str, str]) -> dict:
    by_video = groups(rows, "video_id")
    traces = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": titles.get(video, html.escape(video, quote=False)),
            "x": points["metric_date"],
            "y": points["views_total"],
            "line": {"color": COLORS[i % len(COLORS)]},
        }
        for i, (video, points) in enumerate(sorted(by_video.items(), key=itemgetter(0)))
    ]
    return {
        "data": traces,
        "layout": _layout("Growth curves of the top videos (lifetime views)", xaxis=_time_axis(rows["metric_date"])),
    }


def activity(rows: Series) -> dict:
    grid = [[None] * 24 for _ in WEEKDAYS]
    for weekday, hour, active in zip(rows["weekday"], rows["hour"], rows["active_followers"], strict=True):
        grid[weekday - 1][hour] = round(active, 1)
    return {
        "data": [
            {
                "type": "heatmap",
                "x": list(range(24)),
                "y": WEEKDAYS,
                "z": grid,
                "colorscale": "YlOrRd",
                "reversescale": True,  # more active followers: darker
                "hovertemplate": "%{y} %{x}:00<br>%{z} active followers<extra></extra>",
            }
        ],
        "layout": _layout(
            "Best hours to post: active followers by hour and weekday (mean)",
            xaxis={"title": {"text": "hour (as TikTok reports it)"}, "dtick": 2},
            yaxis={"autorange": "reversed"},
            hovermode="closest",
        ),
    }


def shares_over_time(rows: Series, key: str, title: str) -> dict:
    by_key = groups(rows, key)
    traces = [
        {
            "type": "scatter",
            "mode": _line_mode(points["snapshot_date"]),
            "stackgroup": "one" if key == "gender" else None,
            "name": html.escape(str(name), quote=False),
            "x": points["snapshot_date"],
            "y": points["distribution"],
            "line": {"color": COLORS[i % len(COLORS)]},
        }
        for i, (name, points) in enumerate(sorted(by_key.items(), key=itemgetter(0)))
    ]
    for t in traces:
        if t["stackgroup"] is None:
            del t["stackgroup"]
    return {
        "data": traces,
        "layout": _layout(title, xaxis=_time_axis(rows["snapshot_date"]), yaxis={"tickformat": ".0%"}),
    }


def live(rows: list[dict]) -> dict:
    """A bar per LIVE at its start, on the account's clock (pages.py converts it; `time_zone` names it)."""
    starts = [r.get("started_at") or r["metric_date"] for r in rows]
    zones = sorted({r["time_zone"] for r in rows if r.get("time_zone")})
    title = {"text": f"start ({', '.join(zones)})"} if zones else {"text": "start"}
    peaks = [r.get("peak_viewers") for r in rows]
    return {
        "data": [
            {
                "type": "bar",
                "name": "peak viewers",
                "x": starts,
                "y": peaks,
                "marker": {"color": COLORS[2]},
            }
        ],
        "layout": _layout(
            "LIVE sessions: peak viewers",
            hovermode="closest",
            xaxis=_time_axis(starts, {"title": title}, daily=False),
            yaxis=_count_axis(peaks, "peak viewers", tozero=True),
        ),
    }


# fct_live_account_daily.figures_source: where a day's LIVE figures come from, as its hover says
LIVE_SOURCES = {"live_center": "LIVE Center", "event_log": "recorded LIVEs", "backstage": "LIVE Backstage"}


def live_daily(rows: Series) -> dict:
    """Minutes live per day (bars) and the day's peak viewers (markers on a second axis), every LIVE a source counted:
    LIVE Center and Backstage count LIVEs no event log recorded. Diamonds take the markers instead where they are known
    on more days (Backstage has no viewers, a LIVE Center viewers file no diamonds). Each day's hover names the
    source of its figures (figures_source)."""
    days = rows["metric_date"]
    known = {name: sum(value is not None for value in rows[name]) for name in ("peak_viewers", "diamonds")}
    marked = "diamonds" if known["diamonds"] > known["peak_viewers"] else "peak_viewers"
    label = marked.replace("_", " ")
    hovers = []
    for i, source in enumerate(rows["figures_source"]):
        figures = [(rows["lives"][i], "LIVE(s)")]
        figures += [(rows[name][i], name.replace("_", " ")) for name in ("peak_viewers", "diamonds") if name != marked]
        figures.append((rows["new_followers"][i], "new followers"))
        shown = [f"{int(value):,} {unit}" for value, unit in figures if value is not None]
        hovers.append(" · ".join([*shown, f"from {LIVE_SOURCES.get(source, source)}"]))
    return {
        "data": [
            {
                "type": "bar",
                "name": "minutes live",
                "x": days,
                "y": rows["minutes_live"],
                "customdata": hovers,
                "hovertemplate": "%{y:,.0f} minutes live<br>%{customdata}<extra></extra>",
                "marker": {"color": COLORS[2]},
                "opacity": 0.7,
            },
            {
                # markers, not a line: LIVE days are few and far apart, and a line from one to the next drew peak
                # viewers across the weeks between them, when nobody was live
                "type": "scatter",
                "mode": "markers",
                "name": label,
                "x": days,
                "y": rows[marked],
                "yaxis": "y2",
                "hovertemplate": f"%{{y:,d}} {label}<extra></extra>",
                "marker": {"color": COLORS[0], "size": 7},
            },
        ],
        "layout": _layout(
            f"LIVE per day: minutes live and {label}",
            xaxis=_time_axis(days),
            yaxis=_count_axis(rows["minutes_live"], "minutes live", tozero=True),
            yaxis2=_count_axis(rows[marked], label, overlaying=True, tozero=True),
        ),
    }


def rates(rows: Series) -> dict:
    days = rows["metric_date"]
    names = {"by_views": "by views", "by_followers": "by followers", "by_reach": "by reach (Business API)"}
    traces = [
        {
            "type": "scatter",
            "mode": _line_mode(days),
            "name": label,
            "x": days,
            "y": rows[f"engagement_rate_{key}"],
            "line": {"color": COLORS[i]},
        }
        for i, (key, label) in enumerate(names.items())
        if any(value is not None for value in rows[f"engagement_rate_{key}"])
    ]
    return {
        "data": traces,
        "layout": _layout(
            "Engagement rates: (likes + comments + shares) / …", xaxis=_time_axis(days), yaxis={"tickformat": ".1%"}
        ),
    }


def portfolio(rows: list[dict]) -> dict:
    """Accounts side by side: followers (bars) and their 7-day growth (markers, right axis). Each point's hover
    names the day it describes; an account whose follower figures end before its other daily data (`followers_as_of`,
    data.portfolio) has a hatched bar and the day under its name."""
    handles = [html.escape("@" + r["account_handle"], quote=False) for r in rows]
    days = [r["followers_date"] for r in rows]
    labels = [
        f"{h}<br>as of {r['followers_as_of']}" if r["followers_as_of"] else h
        for h, r in zip(handles, rows, strict=True)
    ]
    followers, growth = [r["followers"] for r in rows], [r["growth_7d"] for r in rows]
    return {
        "data": [
            {
                "type": "bar",
                "name": "followers",
                "x": handles,
                "y": followers,
                "customdata": days,
                "hovertemplate": "%{x}: %{y:,d} followers on %{customdata}<extra></extra>",
                "marker": {
                    "color": COLORS[0],
                    "pattern": {"shape": ["/" if r["followers_as_of"] else "" for r in rows]},
                },
            },
            {
                "type": "scatter",
                "mode": "markers",
                "name": "7-day growth",
                "x": handles,
                "y": growth,
                "customdata": days,
                "hovertemplate": "%{x}: %{y:+,d} followers in the 7 days to %{customdata}<extra></extra>",
                "yaxis": "y2",
                "marker": {"color": COLORS[1], "size": 12},
            },
        ],
        "layout": _layout(
            "Followers and 7-day growth per account",
            xaxis={"tickmode": "array", "tickvals": handles, "ticktext": labels},
            yaxis=_count_axis(followers, "followers", tozero=True),
            yaxis2=_count_axis(growth, "7-day growth", overlaying=True, tozero=True),
            hovermode="closest",
        ),
    }
