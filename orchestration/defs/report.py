"""The HTML report as an asset: rebuilt from the published marts after every publish (`report/index`)."""

import dagster as dg

from orchestration.defs.publish import published_key
from orchestration.defs.resources import DataDirResource

REPORT_KEY = dg.AssetKey(["report", "index"])


def build_report_asset(mart_models: list[str]) -> dg.AssetsDefinition:
    @dg.asset(
        key=REPORT_KEY,
        deps=[published_key(model) for model in mart_models],
        group_name="report",
        # ahead of the great-expectations check when both are ready: GE validates in its worker process meanwhile
        op_tags={"dagster/priority": "1"},
        description="<data>/marts/report/index.html (the portfolio) and one page per account, from the published "
        "marts only; opens from disk with no network (plotly.js is written beside the pages).",
    )
    def report_index(context: dg.AssetExecutionContext, data_dir: DataDirResource) -> dg.MaterializeResult:
        from orchestration.lib.report import build_report
        from orchestration.lib.report.render import inputs_signature, report_is_current

        # no run lock: it reads the published files (replaced atomically) and writes only its own folder
        marts = data_dir.paths.marts
        current = report_is_current(marts / "report", inputs_signature(marts))
        index = build_report(marts, unless_current=True)  # nothing published anew: the same pages
        pages = sorted(p.name for p in (index.parent / "accounts").glob("*.html"))
        return dg.MaterializeResult(
            metadata={"index": dg.MetadataValue.path(str(index)), "account_pages": len(pages), "rebuilt": not current}
        )

    return report_index
