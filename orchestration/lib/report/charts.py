"""Plotly figures (plain data + layout dicts) for each section; plotly.js draws them in the page.

Text a creator typed (video titles) is HTML-escaped before it goes into a figure: plotly.js reads a few HTML
tags in labels, and an escaped title shows literally (plotly decodes the entities back for display).
"""

from __future__ import annotations

import html
from collections import defaultdict

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


def short_title(title: str | None, video_id: str, limit: int = 40) -> str:
    text = (title or "").strip() or f"video {video_id}"
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return html.escape(text, quote=False)


def followers(rows: list[dict]) -> dict:
    days = [r["metric_date"] for r in rows]
    return {
        "data": [
            {
                "type": "bar",
                "name": "net change per day",
                "x": days,
                "y": [r["net_follower_change"] for r in rows],
                "yaxis": "y2",
                "marker": {"color": "#25b8c4"},
                "opacity": 0.6,
            },
            {
                "type": "scatter",
                "mode": "lines",
                "name": "followers",
                "x": days,
                "y": [r["followers"] for r in rows],
                "line": {"color": "#fe2c55", "width": 2},
            },
        ],
        "layout": _layout(
            "Followers and daily net change",
            yaxis={"title": {"text": "followers"}},
            yaxis2={"title": {"text": "net change"}, "overlaying": "y", "side": "right", "showgrid": False},
        ),
    }


def engagement(rows: list[dict]) -> dict:
    days = [r["metric_date"] for r in rows]
    traces = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": "views",
            "x": days,
            "y": [r["video_views"] for r in rows],
            "line": {"color": COLORS[0]},
        }
    ]
    for i, metric in enumerate(("likes", "comments", "shares"), start=1):
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": metric,
                "x": days,
                "y": [r[metric] for r in rows],
                "yaxis": "y2",
                "line": {"color": COLORS[i]},
            }
        )
    return {
        "data": traces,
        "layout": _layout(
            "Daily views, likes, comments, shares",
            yaxis={"title": {"text": "views"}},
            yaxis2={"title": {"text": "likes · comments · shares"}, "overlaying": "y", "side": "right"},
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


def curves(rows: list[dict], titles: dict[str, str]) -> dict:
    by_video: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_video[r["video_id"]].append(r)
    traces = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": titles.get(video, html.escape(video, quote=False)),
            "x": [r["metric_date"] for r in points],
            "y": [r["views_total"] for r in points],
            "line": {"color": COLORS[i % len(COLORS)]},
        }
        for i, (video, points) in enumerate(sorted(by_video.items()))
    ]
    return {"data": traces, "layout": _layout("Growth curves of the top videos (lifetime views)")}


def activity(rows: list[dict]) -> dict:
    grid = [[None] * 24 for _ in WEEKDAYS]
    for r in rows:
        grid[r["weekday"] - 1][r["hour"]] = round(r["active_followers"], 1)
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


def shares_over_time(rows: list[dict], key: str, title: str) -> dict:
    by_key: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_key[r[key]].append(r)
    traces = [
        {
            "type": "scatter",
            "mode": "lines",
            "stackgroup": "one" if key == "gender" else None,
            "name": html.escape(str(name), quote=False),
            "x": [r["snapshot_date"] for r in points],
            "y": [r["distribution"] for r in points],
            "line": {"color": COLORS[i % len(COLORS)]},
        }
        for i, (name, points) in enumerate(sorted(by_key.items()))
    ]
    for t in traces:
        if t["stackgroup"] is None:
            del t["stackgroup"]
    return {"data": traces, "layout": _layout(title, yaxis={"tickformat": ".0%"})}


def live(rows: list[dict]) -> dict:
    return {
        "data": [
            {
                "type": "bar",
                "name": "peak viewers",
                "x": [r.get("started_at") or r["metric_date"] for r in rows],
                "y": [r.get("peak_viewers") for r in rows],
                "marker": {"color": COLORS[2]},
            }
        ],
        "layout": _layout("LIVE sessions: peak viewers", hovermode="closest"),
    }


def rates(rows: list[dict]) -> dict:
    days = [r["metric_date"] for r in rows]
    names = {"by_views": "by views", "by_followers": "by followers", "by_reach": "by reach (Business API)"}
    traces = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": label,
            "x": days,
            "y": [r[f"engagement_rate_{key}"] for r in rows],
            "line": {"color": COLORS[i]},
        }
        for i, (key, label) in enumerate(names.items())
        if any(r[f"engagement_rate_{key}"] is not None for r in rows)
    ]
    return {
        "data": traces,
        "layout": _layout("Engagement rates: (likes + comments + shares) / …", yaxis={"tickformat": ".1%"}),
    }


def portfolio(rows: list[dict]) -> dict:
    """Accounts side by side: followers (bars) and their 7-day growth (markers, right axis)."""
    handles = [html.escape("@" + r["account_handle"], quote=False) for r in rows]
    return {
        "data": [
            {
                "type": "bar",
                "name": "followers",
                "x": handles,
                "y": [r["followers"] for r in rows],
                "marker": {"color": COLORS[0]},
            },
            {
                "type": "scatter",
                "mode": "markers",
                "name": "7-day growth",
                "x": handles,
                "y": [r["growth_7d"] for r in rows],
                "yaxis": "y2",
                "marker": {"color": COLORS[1], "size": 12},
            },
        ],
        "layout": _layout(
            "Followers and 7-day growth per account",
            yaxis={"title": {"text": "followers"}},
            yaxis2={"title": {"text": "7-day growth"}, "overlaying": "y", "side": "right", "showgrid": False},
            hovermode="closest",
        ),
    }
