"""The seven TikTok Studio export files: their names, exact headers and the columns we land them as.

Facts about the received format live here (see ../shared/tiktok-formats.md section 1); the pandera
contracts in `schemas/studio_contracts.py` and the landing code both read them, so a header is spelled once.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StudioFileKind:
    kind: str  # our name, also the raw table name: raw.studio_<kind>
    entry_stem: str  # file name TikTok uses inside the ZIP, without extension
    section: str  # Studio section (the ZIP name's prefix)
    header: tuple[str, ...]  # exact header, in order
    columns: tuple[str, ...]  # landed column names, same order as header
    dated: bool  # has a per-row year-less Date column


STUDIO_FILE_KINDS: dict[str, StudioFileKind] = {
    k.kind: k
    for k in (
        StudioFileKind(
            "overview",
            "Overview",
            "Overview",
            ("Date", "Video Views", "Profile Views", "Likes", "Comments", "Shares"),
            ("metric_date", "video_views", "profile_views", "likes", "comments", "shares"),
            True,
        ),
        StudioFileKind(
            "viewers",
            "Viewers",
            "Viewers",
            ("Date", "Total Viewers", "New Viewers", "Returning Viewers"),
            ("metric_date", "total_viewers", "new_viewers", "returning_viewers"),
            True,
        ),
        StudioFileKind(
            "follower_history",
            "FollowerHistory",
            "Followers",
            ("Date", "Followers", "Difference in followers from previous day"),
            ("metric_date", "followers", "follower_difference"),
            True,
        ),
        StudioFileKind(
            "follower_activity",
            "FollowerActivity",
            "Followers",
            ("Date", "Hour", "Active followers"),
            ("metric_date", "hour", "active_followers"),
            True,
        ),
        StudioFileKind(
            "follower_gender",
            "FollowerGender",
            "Followers",
            ("Gender", "Distribution"),
            ("gender", "distribution"),
            False,
        ),
        StudioFileKind(
            "follower_territories",
            "FollowerTopTerritories",
            "Followers",
            ("Top territories", "Distribution"),
            ("territory", "distribution"),
            False,
        ),
        StudioFileKind(
            "content",
            "Content",
            "Content",
            (
                "Time",
                "Video title",
                "Video link",
                "Post time",
                "Total likes",
                "Total comments",
                "Total shares",
                "Total views",
            ),
            (
                "metric_date",
                "video_title",
                "video_link",
                "post_date",
                "likes_total",
                "comments_total",
                "shares_total",
                "views_total",
            ),
            False,
        ),
    )
}

# Columns every raw table carries, so any row traces back to the received file and line.
LINEAGE_COLUMNS = (
    "document_id",  # one export file of one receipt: sha256, inbox-path tag, member (archive.document_id_for)
    "account_handle",
    "export_date",  # DATE the export was taken (anchor, see lib/studio/provenance.py)
    "exported_at",  # TIMESTAMP, the most precise export moment known; orders "newest export wins"
    "source_row",  # 1-based data row in the file (the file's line number minus one for the header)
)
