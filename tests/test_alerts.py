"""Alerts: each rule fires once (not on the next run), a failed delivery is retried, no secret leaks anywhere.

Delivery goes through apprise's `json://` plugin to an HTTP receiver on 127.0.0.1 in a thread; the marts are
hand-made parquet files whose events are worked out below, at each rule.
"""

import json
import logging
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import duckdb
import pytest

from orchestration.lib.alerts import AlertsConfigError, alert_run_failed, load_alerts, run_alerts
from orchestration.lib.alerts.dispatch import state_path
from orchestration.lib.core.paths import DataPaths

TOKEN = "tok-3f9a1c77e2b84d05"  # in the environment, used in the URL's path
FILE_SECRET = "filed-8d1e6b2a90c4"  # inside the url_file only
TODAY = date(2026, 3, 10)


class Receiver:
    """A local webhook: records every POST (path and JSON body) and answers `status`."""

    def __init__(self):
        self.requests: list[tuple[str, dict]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.status == 200:
                    receiver.requests.append((self.path, json.loads(body)))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        # a short poll: shutting the receiver down after each test then takes milliseconds, not half a second
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def titles(self, path_part: str = "") -> list[str]:
        return [body["title"] for path, body in self.requests if path_part in path]

    def body_of(self, title: str) -> str:
        (body,) = [b["message"] for _, b in self.requests if b["title"] == title]
        return body


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()


def _parquet(paths: DataPaths, model: str, select: str) -> None:
    duckdb.execute(f"copy ({select}) to '{paths.marts / model}.parquet' (format parquet)")


@pytest.fixture
def data(tmp_path, monkeypatch, receiver):
    monkeypatch.setenv("ALERTS_TEST_TOKEN", TOKEN)
    monkeypatch.delenv("TIKTOK_ALERTS_FILE", raising=False)
    paths = DataPaths(tmp_path).ensure()
    # no_new_export (days: 3, run date 2026-03-10): beta 5 days (export 03-05), gamma 3 days (API only,
    # follower day 03-07: the boundary fires), epsilon 4 days (LIVE files only, 03-06); alpha 1 day and delta 2 days
    # do not; zeta 5 days (Studio until 01-10, the API since: API advice). Each is told what its data comes from
    # (rpt_account_freshness below). theta, a creator known only from the Backstage downloads, has no date: no event
    # (backstage/'s stall is told).
    _parquet(
        paths,
        "dim_accounts",
        """select * from (values
            ('alpha', date '2026-03-09', date '2026-03-08'), ('beta', date '2026-03-05', date '2026-03-04'),
            ('gamma', null, date '2026-03-07'), ('delta', null, date '2026-03-08'),
            ('epsilon', date '2026-03-06', null), ('zeta', date '2026-01-10', date '2026-03-05'),
            ('eta', date '2026-03-06', date '2026-03-05'), ('theta', null, null))
            t(account_handle, last_export_date, latest_followers_date)""",
    )
    # and the inbox's backstage/ folder, as the mart flags it (its dbt unit test holds the rule): newest 03-02,
    # 8 days, its Studio row undated; beta's own LIVE files are an account's (no folder event)
    _parquet(
        paths,
        "rpt_account_freshness",
        """select * from (values ('backstage', 'live', date '2026-03-02', true),
            ('backstage', 'studio', null::date, true), ('beta', 'live', date '2026-03-01', false),
            ('beta', 'studio', date '2026-03-05', false), ('newbrand', 'api_display', null::date, false),
            ('gamma', 'api_display', date '2026-03-07', false), ('epsilon', 'live', date '2026-03-06', false),
            ('epsilon', 'studio', null::date, false), ('zeta', 'studio', date '2026-01-10', false),
            ('zeta', 'api_display', date '2026-03-05', false), ('eta', 'live', date '2026-03-06', false),
            ('eta', 'api_display', date '2026-03-05', false), ('eta', 'studio', date '2026-01-10', false))
            t(account_handle, export_source, last_export_date, is_agency_wide_folder)""",
    )
    # followers_drop (percent: 5, lookback 7 days of alpha's data, i.e. after 03-02):
    # 03-01 -16.7% (outside the window), 03-03 -110/1010 = -10.9%, 03-04 -20/900 = -2.2% (below),
    # 03-05/06 unknown, 03-07 -50/850 = -5.9%, 03-08 -80/800 = -10.0%, 03-09 -20/720 = -2.8% (below).
    _parquet(
        paths,
        "fct_follower_growth_daily",
        """select 'alpha' as account_handle, d::date as metric_date, f as followers,
            f - lag(f) over (order by d) as net_follower_change
        from (values ('2026-02-28', 1200), ('2026-03-01', 1000), ('2026-03-02', 1010), ('2026-03-03', 900),
                     ('2026-03-04', 880), ('2026-03-05', null), ('2026-03-06', 850), ('2026-03-07', 800),
                     ('2026-03-08', 720), ('2026-03-09', 700)) t(d, f)""",
    )
    # breakout_video (min_score 3, min_views 1000, lookback 7 days: only beta's 03-08 rows count).
    # Median of beta's 7-day gains over 28 days up to 03-08: {100,200,300,400,3000,5000,100,200,300} → 300;
    # v5: 5000 / 300 = 16.7x. v6's 3000 on 03-01 is outside the lookback; v1..v3 are far below 3x.
    _parquet(
        paths,
        "rpt_trending_videos_7d",
        """select 'beta' as account_handle, d::date as as_of_date, rank as trending_rank, v as video_id,
            g as views_gained_7d, g * 2 as views_total, date '2026-02-01' as post_date, true as has_full_window
        from (values ('2026-03-01', 1, 'v6', 3000), ('2026-03-01', 2, 'v4', 400), ('2026-03-01', 3, 'v3', 300),
                     ('2026-03-01', 4, 'v2', 200), ('2026-03-01', 5, 'v1', 100), ('2026-03-08', 1, 'v5', 5000),
                     ('2026-03-08', 2, 'v3', 300), ('2026-03-08', 3, 'v2', 200), ('2026-03-08', 4, 'v1', 100))
            t(d, rank, v, g)""",
    )
    _parquet(
        paths,
        "dim_videos",
        """select 'beta' as account_handle, 'v5' as video_id, 'Sourdough in 5 minutes' as video_title,
            'https://www.tiktok.com/@beta/video/5' as video_link""",
    )
    (paths.quarantine / "abc123def456_Content.csv.json").write_text(
        json.dumps(
            {
                "file": "Content.csv",
                "account_handle": "beta",
                "file_kind": "content",
                "what_to_do": "Fix or re-download the file.",
                "issues": [
                    {"rule": "header", "message": "the header is not Content's", "row": None, "column": None},
                    {"rule": "row_width", "message": "3 cells, expected 9", "row": 4, "column": None},
                ],
            }
        )
    )
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "hook.url").write_text(f"json://127.0.0.1:{receiver.port}/filed/{FILE_SECRET}\n")
    (secrets / "hook.url").chmod(0o600)
    (tmp_path / "alerts.yml").write_text(
        f"""destinations:
  hook:
    url: "json://127.0.0.1:{receiver.port}/alerts/${{ALERTS_TEST_TOKEN}}"
  filed:
    url_file: secrets/hook.url
rules:
  no_new_export: {{days: 3, to: hook}}
  followers_drop: {{percent: 5, to: [hook]}}
  breakout_video: {{min_score: 3, min_views: 1000, to: hook}}
  files_quarantined: {{to: filed}}
  run_failed: {{to: hook}}
"""
    )
    return paths


EXPECTED_TITLES = [
    "@beta: no new export for 5 days",
    "@epsilon: no new LIVE file for 4 days",
    "@eta: no new API data for 5 days",  # a LIVE file since (03-06) is no daily source: the API's 03-05 is
    "@gamma: no new API data for 3 days",
    "@zeta: no new API data for 5 days",  # Studio downloads until January, the API since (review)
    "backstage/: no new agency-wide download for 8 days",
    "@alpha: followers fell 10.9% on 2026-03-03",
    "@alpha: followers fell 5.9% on 2026-03-07",
    "@alpha: followers fell 10.0% on 2026-03-08",
    '@beta: breakout video "Sourdough in 5 minutes"',
]


def test_a_freshness_mart_published_before_its_folder_column_names_no_folder_and_stops_no_rule(data):
    """An older version's rpt_account_freshness.parquet (no is_agency_wide_folder), e.g. the alerts asset run alone
    after an upgrade: the accounts' stalls are still found, the folders wait for the next run's mart."""
    from orchestration.lib.alerts.rules import no_new_export

    _parquet(
        data,
        "rpt_account_freshness",
        """select * from (values ('backstage', 'live', date '2026-03-02'))
            t(account_handle, export_source, last_export_date)""",
    )
    with duckdb.connect() as con:
        titles = [e.title for e in no_new_export(con, data.marts, days=3, today=TODAY)]
    # without the mart's sources, each account gets the Studio advice
    assert titles == [
        "@beta: no new export for 5 days",
        "@epsilon: no new export for 4 days",
        "@eta: no new export for 4 days",
        "@gamma: no new export for 3 days",
        "@zeta: no new export for 5 days",
    ]


def test_each_rule_fires_once_with_its_numbers(data, receiver):
    first = run_alerts(data, today=TODAY)
    assert receiver.titles("/alerts/") == EXPECTED_TITLES
    assert receiver.titles("/filed/") == ["Quarantined: Content.csv (@beta)"]
    assert receiver.body_of("@beta: no new export for 5 days").startswith(
        "The newest export of @beta is dated 2026-03-05, 5 days before 2026-03-10 (rule no_new_export: 3 days"
    )
    assert receiver.body_of("@gamma: no new API data for 3 days") == (
        "The newest TikTok API data of @gamma is dated 2026-03-07, 3 days before 2026-03-10 (rule no_new_export: 3 "
        "days or more). Check that the daily job ran and that its API pull for the account succeeded (an expired or "
        "revoked token stops it: docs/api-sources.md)."
    )
    assert receiver.body_of("@eta: no new API data for 5 days").startswith(
        "The newest TikTok API data of @eta is dated 2026-03-05, 5 days before 2026-03-10"
    )
    assert receiver.body_of("@epsilon: no new LIVE file for 4 days").endswith(
        "@epsilon has LIVE files only, so it has data only on the days it goes LIVE; to follow it every day, "
        "download its files from TikTok Studio too."
    )
    assert receiver.body_of("backstage/: no new agency-wide download for 8 days").startswith(
        "The newest file in inbox/backstage/ (agency-wide: LIVE Backstage creator data) is dated 2026-03-02, 8 days "
        "before 2026-03-10"
    )
    assert receiver.body_of("@alpha: followers fell 10.9% on 2026-03-03") == (
        "Followers of @alpha went from 1,010 the day before to 900 on 2026-03-03: -110 (-10.9%; "
        "rule followers_drop: more than 5% in a day)."
    )
    assert receiver.body_of('@beta: breakout video "Sourdough in 5 minutes"') == (
        '"Sourdough in 5 minutes" (video v5) gained 5,000 views in the 7 days to 2026-03-08, 16.7x the median '
        "7-day growth (300) of the account's trending videos (28 days) (rule breakout_video: at least 3x and "
        "1,000 views).\n"
        "https://www.tiktok.com/@beta/video/5"
    )
    assert receiver.body_of("Quarantined: Content.csv (@beta)").startswith(
        "Content.csv (content) was quarantined: header: the header is not Content's (1 more issue(s)).\n"
    )
    assert (first.events, len(first.sent), first.failed, first.already_sent) == (11, 11, [], 0)

    second = run_alerts(data, today=TODAY)
    assert len(receiver.requests) == 11, "a second run sends nothing"
    assert (second.events, second.sent, second.already_sent) == (11, [], 11)

    # a new fact is a new event: a second quarantine report is sent, and only it
    # (named by its place in the inbox: a dated folder's Viewers.csv is one of many)
    report = {"file": "Viewers.csv", "inbox_path": "beta/2026-03-08/Viewers.csv", "issues": []}
    (data.quarantine / "0123456789ab_Viewers.csv.json").write_text(json.dumps(report))
    third = run_alerts(data, today=TODAY)
    assert third.sent == ["files_quarantined:0123456789ab_Viewers.csv -> filed"]
    assert receiver.titles()[-1] == "Quarantined: beta/2026-03-08/Viewers.csv"


def test_files_quarantined_together_go_out_as_one_list(data, receiver):
    for name in ("0123456789ab_Viewers.csv", "ba9876543210_Overview.zip"):
        report = {"file": name[13:], "account_handle": "alpha", "file_kind": "viewers", "issues": []}
        (data.quarantine / f"{name}.json").write_text(json.dumps(report))
    first = run_alerts(data, today=TODAY)
    assert receiver.titles("/filed/") == ["3 files quarantined"]
    assert receiver.body_of("3 files quarantined") == (
        "- Viewers.csv (viewers) was quarantined: see its report.\n"
        "- Content.csv (content) was quarantined: header: the header is not Content's (1 more issue(s)).\n"
        "- Overview.zip (viewers) was quarantined: see its report.\n"
        f"Fix or re-download each file and drop it into the inbox again. Reports: {data.quarantine}"
    )
    assert sorted(d for d in first.sent if d.startswith("files_quarantined")) == [
        "files_quarantined:0123456789ab_Viewers.csv -> filed",
        "files_quarantined:abc123def456_Content.csv -> filed",
        "files_quarantined:ba9876543210_Overview.zip -> filed",
    ]
    assert run_alerts(data, today=TODAY).sent == [] and len(receiver.titles("/filed/")) == 1


def test_breakout_comes_from_the_outlier_mart_once_it_is_published(data, receiver):
    # beta's outlier rows; lookback 7 days before the newest day (03-08): after 03-01.
    # v5: 03-07 4000/400 = 10.0x, 03-08 5000/400 = 12.5x (its best day: the one announced); v1 2.0x (below 3);
    # v7 9.0x on 02-20 (outside the window); v8 9.0x but 900 views (below min_views 1000).
    _parquet(
        data,
        "rpt_video_outliers_daily",
        """select 'beta' as account_handle, v as video_id, d::date as metric_date, s as outlier_score,
            g as views_gained_7d, m as peer_median_views_gained_7d, '0-7d' as age_bucket, 3 as peer_videos
        from (values ('v5', '2026-03-07', 10.0, 4000, 400), ('v5', '2026-03-08', 12.5, 5000, 400),
                     ('v1', '2026-03-08', 2.0, 800, 400), ('v7', '2026-02-20', 9.0, 3600, 400),
                     ('v8', '2026-03-08', 9.0, 900, 100)) t(v, d, s, g, m)""",
    )
    run_alerts(data, today=TODAY)
    assert receiver.titles("/alerts/")[-1] == '@beta: breakout video "Sourdough in 5 minutes"'
    assert receiver.body_of('@beta: breakout video "Sourdough in 5 minutes"') == (
        '"Sourdough in 5 minutes" (video v5) gained 5,000 views in the 7 days to 2026-03-08, 12.5x the median '
        "7-day growth (400) of the account's videos of the same age (0-7d old, 3 videos) (rule breakout_video: "
        "at least 3x and 1,000 views).\nhttps://www.tiktok.com/@beta/video/5"
    )
    assert [t for t in receiver.titles() if "breakout" in t] == ['@beta: breakout video "Sourdough in 5 minutes"']


def test_a_failed_run_is_sent_once_and_its_error_carries_no_secret(data, receiver):
    for _ in range(2):
        alert_run_failed(
            data,
            run_id="run-42",
            job_name="daily_pipeline",
            failed_steps=["dbt_models"],
            error=f"\x1b[31mboom\x1b[0m near {TOKEN}",  # dbt's colours are dropped
        )
    assert receiver.titles() == ["Pipeline run failed: daily_pipeline"]
    body = receiver.body_of("Pipeline run failed: daily_pipeline")
    assert (
        body.startswith("Run run-42 of daily_pipeline failed at ")
        and " in: dbt_models.\nboom near [REDACTED]\n" in body
    )


def test_a_failed_delivery_is_retried_by_the_next_run(data, receiver):
    receiver.status = 500
    failed = run_alerts(data, today=TODAY)
    assert (len(failed.failed), failed.sent, receiver.requests) == (11, [], [])
    alert_run_failed(data, run_id="run-7", job_name="daily_pipeline", failed_steps=["x"], error="e")
    receiver.status = 200
    retried = run_alerts(data, today=TODAY)
    # the ten mart events, the quarantine report and the failed run kept as pending
    assert len(retried.sent) == 12 and retried.failed == []
    assert receiver.titles("/alerts/") == [*EXPECTED_TITLES, "Pipeline run failed: daily_pipeline"]
    assert run_alerts(data, today=TODAY).sent == []
    assert json.loads(state_path(data).read_text())["pending"] == {}


def test_no_secret_in_logs_state_or_messages(data, receiver, caplog):
    caplog.set_level(logging.DEBUG)
    receiver.status = 500  # failures log the most
    run_alerts(data, today=TODAY)
    receiver.status = 200
    run_alerts(data, today=TODAY)
    alert_run_failed(data, run_id="r", job_name="j", failed_steps=[], error=f"{TOKEN} {FILE_SECRET}")
    # the secrets were really used: the receiver saw them in the URL path
    assert any(TOKEN in path for path, _ in receiver.requests)
    assert any(FILE_SECRET in path for path, _ in receiver.requests)
    assert "apprise" in caplog.text  # apprise did log (at DEBUG, with the URL it posted to)
    for text in (caplog.text, state_path(data).read_text(), json.dumps([b for _, b in receiver.requests])):
        assert TOKEN not in text and FILE_SECRET not in text
    config = load_alerts(data.root)
    assert TOKEN not in repr(config) and FILE_SECRET not in repr(config)


def test_without_alerts_yml_nothing_happens(tmp_path, receiver, monkeypatch):
    monkeypatch.delenv("TIKTOK_ALERTS_FILE", raising=False)
    paths = DataPaths(tmp_path).ensure()
    assert run_alerts(paths).configured is False
    assert alert_run_failed(paths, run_id="r", job_name="j", failed_steps=[], error="e").configured is False
    assert receiver.requests == [] and not state_path(paths).exists()


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("destinations:\n  a: {url: 'json://127.0.0.1/'}\nrules:\n  run_failed:\n  speling: {}\n", 5, "unknown key"),
        ("destinations:\n  a: {url: 'json://127.0.0.1/${NOT_SET_ANYWHERE}'}\nrules: {}\n", 2, "NOT_SET_ANYWHERE"),
        ("destinations:\n  a: {url: 'json://127.0.0.1/'}\nrules:\n  run_failed: {to: b}\n", 4, "'b'"),
        ("destinations:\n  a: {url: 'json://127.0.0.1/'}\nrules:\n  followers_drop: {}\n", 4, "needs `percent`"),
        ("destinations:\n  a: {url: 'json://x/'}\nrules:\n  no_new_export: {days: 0}\n", 4, "from 1 to 365"),
        ("destinations:\n  a: {url: 'nosuchscheme://x/'}\nrules: {}\n", 2, "apprise does not accept"),
        ("destinations:\n  a: {url_file: secrets/open.url}\nrules: {}\n", 2, "chmod 600"),
        ("destinations:\n  a: {url: 'json://x/'}\nrules:\n  - run_failed\n", 4, "must be a mapping"),
    ],
)
def test_config_errors_name_the_file_and_line(tmp_path, monkeypatch, text, line, message):
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "open.url").write_text(f"json://127.0.0.1/{FILE_SECRET}")
    (tmp_path / "secrets" / "open.url").chmod(0o644)
    (tmp_path / "alerts.yml").write_text(text)
    with pytest.raises(AlertsConfigError) as error:
        load_alerts(tmp_path)
    assert f"{tmp_path / 'alerts.yml'}, line {line}: " in str(error.value) and message in str(error.value)
    assert FILE_SECRET not in str(error.value)


@pytest.mark.parametrize(
    ("data", "line", "message"),
    [
        # an editor's Latin-1 save: "é" is at byte 18 (after "# alertes configur", counted from 0)
        ("# alertes configurées\n".encode("latin-1") + b"destinations: {}\n", 1, "not UTF-8 text (byte 18"),
        (b"destinations:\n  a: {url: !!python/object:os.system 'x'}\nrules: {}\n", 2, "`url` cannot be read"),
        (
            b"destinations:\n  a: {url: !ENV 'X'}\nrules: {}\n",
            2,
            "could not determine a constructor for the tag '!ENV'",
        ),
    ],
)
def test_a_file_not_utf8_or_a_tag_the_safe_loader_refuses_is_named_with_its_line(tmp_path, monkeypatch, data, line,
                                                                                  message):  # fmt: skip
    """Both were a bare UnicodeDecodeError or ConstructorError traceback, which also crashed `make run`'s report of
    the failed run (it expects AlertsConfigError)."""
    (tmp_path / "alerts.yml").write_bytes(data)
    with pytest.raises(AlertsConfigError) as error:
        load_alerts(tmp_path)
    assert f"{tmp_path / 'alerts.yml'}, line {line}: " in str(error.value) and message in str(error.value)


def test_a_destination_url_written_in_alerts_yml_is_masked_too_and_words_are_not(tmp_path):
    """A webhook URL written out in alerts.yml is as secret as one from the environment; apprise logs the http:// URL
    it turns a json:// one into, so its token-like parts and its password are masked as well. The masking applies to
    every message's text too, where the URLs' words and host names stay (a first version blanked "services" in
    titles); log lines mask every longer piece (an ntfy topic, a chat id: review)."""
    urls = {
        "mine": "json://127.0.0.1:9/literalhook/LITERALSECRET777",
        "team": "https://hooks.slack.com/services/T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "ops": "json://localhost:8080/notifications",
        "mail": "mailto://alerts:hunter2pass@gmail.com?to=team@example.com",
        "push": "ntfy://myprivatetopic",
        "bot": "mailto://bot:tiktok@mail.example.org?to=ops@example.org",  # a short word as the password
        "tg": "tgram://123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQ/987654321",
    }
    destinations = "".join(f"  {name}: {{url: '{url}'}}\n" for name, url in urls.items())
    (tmp_path / "alerts.yml").write_text(f"destinations:\n{destinations}rules:\n  run_failed:\n")
    config = load_alerts(tmp_path)
    logged = config.redact(f"loaded {urls['mine']}; JSON POST URL: http://127.0.0.1:9/literalhook/LITERALSECRET777")
    assert logged == "loaded [REDACTED]; JSON POST URL: http://127.0.0.1:9/literalhook/[REDACTED]"
    assert config.redact(urls["team"]) == "[REDACTED]"
    assert config.redact("POST /services/T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXX") == (
        "POST /services/[REDACTED]/[REDACTED]/[REDACTED]"
    )
    assert config.redact("login alerts:hunter2pass") == "login alerts:[REDACTED]"
    # a short word-like password is masked in log lines only: in messages it would blank "tiktok" in every link
    assert config.redact("https://www.tiktok.com/@alpha/video/1") == "https://www.tiktok.com/@alpha/video/1"
    assert config.redact.logs("login bot:tiktok") == "login bot:[REDACTED]"
    title = '"Our cleaning services" trending: see notifications on localhost, gmail.com, example.com, hooks.slack.com'
    assert config.redact(title) == title
    # a log line (apprise's, urllib3's) masks every longer piece too: an ntfy topic, a Telegram chat id
    assert config.redact.logs("Failed to send ntfy notification to topic 'myprivatetopic': error=403.") == (
        "Failed to send ntfy notification to topic '[REDACTED]': error=403."
    )
    assert config.redact.logs(
        "POST /bot123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQ/sendMessage chat_id=987654321"
    ) == ("POST /bot[REDACTED]:[REDACTED]/sendMessage chat_id=[REDACTED]")


def test_the_run_failure_sensor_sends_the_failed_step_and_error(data, receiver):
    import dagster as dg

    from orchestration.defs.alerts import alert_on_run_failure
    from orchestration.defs.resources import DataDirResource

    @dg.op
    def explode():
        raise ValueError(f"exploded with {TOKEN}")

    @dg.job
    def doomed():
        explode()

    with dg.instance_for_test() as instance:
        result = doomed.execute_in_process(instance=instance, raise_on_error=False)
        context = dg.build_run_status_sensor_context(
            sensor_name="alert_on_run_failure",
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            dagster_event=result.get_run_failure_event(),
        ).for_run_failure()
        alert_on_run_failure(context, data_dir=DataDirResource(data_dir=str(data.root)))
    assert receiver.titles() == ["Pipeline run failed: doomed"]
    body = receiver.body_of("Pipeline run failed: doomed")
    assert f"Run {result.run_id} of doomed failed at " in body
    assert " in: explode.\nValueError: exploded with [REDACTED]\n" in body


def test_the_cli_sends_its_failed_run_once(data, receiver, capsys):
    import dagster as dg

    from orchestration.cli import alert_failed_run

    @dg.op
    def land():
        raise RuntimeError("disk full")

    @dg.job
    def daily_pipeline():
        land()

    with dg.instance_for_test() as instance:
        result = daily_pipeline.execute_in_process(instance=instance, raise_on_error=False)
    capsys.readouterr()  # Dagster's own log of the run
    for _ in range(2):
        alert_failed_run(data, result, ["land"])
    assert receiver.titles() == ["Pipeline run failed: daily_pipeline"]
    assert f"Run {result.run_id} of daily_pipeline failed at " in receiver.requests[0][1]["message"]
    assert " in: land.\nRuntimeError: disk full\n" in receiver.requests[0][1]["message"]
    assert capsys.readouterr().err == ""


def test_the_alerts_asset_follows_every_published_mart_and_the_sensor_is_on(dbt_manifest):
    import dagster as dg

    from orchestration.definitions import defs

    definitions = defs()
    graph = definitions.resolve_asset_graph()
    published = {k for k in graph.get_all_asset_keys() if k.path[0] == "published"}
    assert len(published) >= 9 and set(graph.get(dg.AssetKey(["alerts", "sent"])).parent_keys) == published
    assert (
        dg.AssetKey(["alerts", "sent"]) in definitions.resolve_job_def("daily_pipeline").asset_layer.selected_asset_keys
    )
    sensor = definitions.resolve_sensor_def("alert_on_run_failure")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_a_breakout_sends_its_link_only_when_it_is_tiktoks_https_page(tmp_path):
    """A video link is a cell of a received file or an API field: "javascript:…" or another site is left out of the
    message (a chat client may render it as a link), the rest of the alert is sent."""
    from orchestration.lib.alerts.rules import breakout_video

    paths = DataPaths(tmp_path).ensure()
    _parquet(
        paths,
        "rpt_video_outliers_daily",
        """select 'beta' as account_handle, v as video_id, date '2026-03-08' as metric_date, 10.0 as outlier_score,
            4000 as views_gained_7d, 400 as peer_median_views_gained_7d, '0-7d' as age_bucket, 3 as peer_videos
        from (values ('v1'), ('v2')) t(v)""",
    )
    _parquet(
        paths,
        "dim_videos",
        """select 'beta' as account_handle, v as video_id, 'A title' as video_title, link as video_link
        from (values ('v1', 'javascript:alert(1)//https://www.tiktok.com/@beta/video/1'),
                     ('v2', 'https://www.tiktok.com/@beta/video/2')) t(v, link)""",
    )
    events = breakout_video(duckdb.connect(), paths.marts, min_score=3, min_views=1000, lookback_days=7)
    bodies = {event.key: event.body for event in events}
    assert bodies["breakout_video:beta:v1"].endswith("at least 3x and 1,000 views).")
    assert bodies["breakout_video:beta:v2"].endswith(
        "at least 3x and 1,000 views).\nhttps://www.tiktok.com/@beta/video/2"
    )


def test_a_quarantine_that_ended_is_not_announced(tmp_path):
    """A report stays in raw/quarantine when a corrected file replaces its file (or the file is moved where it
    belongs); a destination added later was sent every such report as "quarantined". The published
    rpt_quarantined_files says which files are still quarantined: only their reports are announced."""
    from orchestration.lib.alerts.rules import files_quarantined

    paths = DataPaths(tmp_path).ensure()
    sha_a, sha_b, sha_c = "a" * 64, "b" * 64, "c" * 64
    reports = {
        "aaaaaaaaaaaa_1_Overview.csv": ("Overview.csv", "alpha/Overview.csv", sha_a),
        "bbbbbbbbbbbb_2_Followers.zip_FollowerGender.csv": ("Followers.zip › FollowerGender.csv", "alpha/Followers.zip",
                                                            sha_b),
        "cccccccccccc_3_Viewers.csv": ("Viewers.csv", "alpha/Viewers.csv", sha_c),
        "dddddddddddd_Content.csv": ("Content.csv", None, None),  # written before reports named their inbox path
    }  # fmt: skip
    for name, (file, inbox_path, sha) in reports.items():
        report = {
            "file": file,
            "inbox_path": inbox_path,
            "archive_sha256": sha,
            "account_handle": "alpha",
            "issues": [],
        }
        (paths.quarantine / f"{name}.json").write_text(json.dumps(report))
    assert len(files_quarantined(paths)) == 4  # the mart not published yet: every report

    # still quarantined: the Overview (its receipt unknown to the manifest: listed by its file name), and the gender
    # entry of the ZIP; the Viewers file was corrected since
    _parquet(
        paths,
        "rpt_quarantined_files",
        f"""select * from (values
                ('{sha_a}:0123456789ab:', 'Overview.csv', null, null::timestamp),
                ('{sha_b}:0123456789ab:FollowerGender.csv', 'alpha/Followers.zip', 'FollowerGender.csv', now()),
                ('{sha_b}:0123456789ab:FollowerHistory.csv', 'alpha/Followers.zip', 'FollowerHistory.csv', now()))
            t(document_id, inbox_path, zip_member, received_at)""",
    )  # fmt: skip
    assert sorted(event.key for event in files_quarantined(paths)) == [
        "files_quarantined:aaaaaaaaaaaa_1_Overview.csv",
        "files_quarantined:bbbbbbbbbbbb_2_Followers.zip_FollowerGender.csv",
        "files_quarantined:dddddddddddd_Content.csv",
    ]


def test_a_quarantined_file_s_name_cannot_write_lines_into_an_alert(tmp_path):
    """A file named `Overview\\nBcc: attacker@example.com\\n.csv` wrote that header line into an e-mail alert's title,
    and an ESC sequence went out raw (review): control characters are escaped in the title and the body."""
    from orchestration.lib.alerts.rules import files_quarantined

    paths = DataPaths(tmp_path).ensure()
    name = "nl/Overview\nBcc: attacker@example.com\n\x1b[31m.csv"
    report = {
        "file": name.split("/")[1],
        "inbox_path": name,
        "archive_sha256": "a" * 64,
        "account_handle": "nl",
        "issues": [{"rule": "header", "message": "bad header in\nBcc: x", "row": 0}],
    }
    (paths.quarantine / "aaaaaaaaaaaa_Overview.json").write_text(json.dumps(report))
    (event,) = files_quarantined(paths)
    assert event.title == "Quarantined: nl/Overview\\nBcc: attacker@example.com\\n\\x1b[31m.csv (@nl)"
    assert event.body.splitlines()[0] == (
        "nl/Overview\\nBcc: attacker@example.com\\n\\x1b[31m.csv (unknown kind) was quarantined: header: bad header "
        "in\\nBcc: x."
    )
