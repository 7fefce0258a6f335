"""The LIVE recorder: subscribes to one TikTok LIVE and writes a `tiktok-live-log/1` event log.

`python -m orchestration.live_recorder record @handle` (docs/live.md, "Recording a LIVE"). Optional and
off by default: it needs the `live` extra (the unofficial `TikTokLive` client, AGPL-3.0), network access
to tiktok.com and a third-party signing service. The pipeline never imports this package: it only lands
the logs the recorder leaves in the inbox.

- `handlers`: TikTokLive v7 events → record fields (pure; attribute access only);
- `writer`: the JSON-lines log (one `seq` per line, flushed per line, optional gzip) and the sidecar;
- `session`: one recording's state (connections, reconnects, how it ended) and its clean finish;
- `recorder`: the connect / reconnect loop around a `TikTokLiveClient`, imported lazily;
- `__main__`: the command line (`main(argv)`).

May import `orchestration.lib.core` and nothing else of ours; only `orchestration.cli` imports it.
"""
