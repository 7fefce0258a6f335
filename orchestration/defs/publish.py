"""Published marts (parquet + analytics.duckdb) and their great-expectations checks."""

import dagster as dg

from orchestration.defs.resources import DataDirResource
from orchestration.lib.marts import quality_worker  # imports no great_expectations: the worker does
from orchestration.lib.marts.publish import publish_marts
from orchestration.lib.marts.quality import DBT_MANIFEST


def published_key(model: str) -> dg.AssetKey:
    return dg.AssetKey(["published", model])


def build_publish_assets(mart_models: list[str]) -> list:
    @dg.multi_asset(
        specs=[
            dg.AssetSpec(
                published_key(model),
                deps=[dg.AssetKey(["marts", model])],
                description=f"<data>/marts/versions/{model}/ (newest first; {model}.parquet links the newest), "
                "and its view in <data>/marts/analytics.duckdb.",
            )
            for model in mart_models
        ],
        group_name="published",
    )
    def published_marts(context: dg.AssetExecutionContext, data_dir: DataDirResource):
        """Publish a new parquet version of each changed mart; the catalog views pick the newest at query time."""
        paths = data_dir.paths
        with data_dir.exclusive():  # DuckDB refuses a reader while another run writes the warehouse
            results = publish_marts(paths.warehouse, paths.marts, mart_models)
        # the files are final: great-expectations starts on them in its worker (if the landing or the dbt step
        # started one)
        quality_worker.submit(paths.marts, paths.quality_docs, manifest_path=DBT_MANIFEST)
        for model, result in results.items():
            yield dg.MaterializeResult(
                asset_key=published_key(model),
                metadata={
                    "rows": result["rows"],
                    "file_changed": result["changed"],
                    "path": dg.MetadataValue.path(result["path"]),
                    "catalog": dg.MetadataValue.path(str(paths.analytics_db)),
                },
            )

    @dg.multi_asset_check(
        specs=[
            dg.AssetCheckSpec(
                "great_expectations",
                asset=published_key(model),
                description="great-expectations on the published file, as the dbt manifest declares the mart: "
                "schema, volume, grain, recency per account (ranges and reconciliation are dbt tests on the mart).",
            )
            for model in mart_models
        ],
    )
    def published_marts_quality(context: dg.AssetCheckExecutionContext, data_dir: DataDirResource):
        """Validate the published files that changed (the others keep their recorded results) and write Data
        Docs under <data>/marts/quality/."""
        paths = data_dir.paths
        results = quality_worker.check_published_marts(paths.marts, paths.quality_docs, manifest_path=DBT_MANIFEST)
        wrong = []
        for model in mart_models:
            own = [r for r in results if r.mart == model]
            passed, severity = all(r.passed for r in own), quality_severity(own)
            if severity == dg.AssetCheckSeverity.ERROR:  # a failed grain or schema check, or no file
                wrong.append(f"{model} ({', '.join(r.check for r in own if not r.passed)})")
            lines = ["| check | passed | description |", "|---|---|---|"]
            lines += [f"| {r.check} | {'yes' if r.passed else '**no**'} | {r.description} |" for r in own]
            yield dg.AssetCheckResult(
                asset_key=published_key(model),
                check_name="great_expectations",
                passed=passed,
                severity=severity,
                metadata={
                    "checks": dg.MetadataValue.md("\n".join(lines)),
                    "failed": [r.check for r in own if not r.passed],
                    "validated_this_run": not any(r.details.get("reused") for r in own),
                    "details": dg.MetadataValue.json({r.check: r.details for r in own}),
                    "summary_page": dg.MetadataValue.path(str(paths.quality_docs / "checks.html")),
                    "data_docs": dg.MetadataValue.path(str(paths.quality_docs / "index.html")),
                },
            )
        if wrong:  # an ERROR check is a record only to Dagster: the run (its UI, the run-failure alert) must fail
            raise dg.Failure(
                description=f"great-expectations: what BI tools read is wrong in {len(wrong)} published mart(s): "
                f"{'; '.join(wrong)}. See {paths.quality_docs / 'checks.html'}"
            )

    return [published_marts, published_marts_quality]


def quality_severity(results: list) -> dg.AssetCheckSeverity:
    """ERROR when what is published is wrong or missing: a failed grain or schema check, a mart not published. A
    stale account (recency) or an empty mart (volume) is about the exports received (one account downloads only
    Followers, another dropped a months-old export today): WARN, reported by `make run` without failing it."""
    failed = [r for r in results if not r.passed]
    wrong = [r for r in failed if r.check in ("grain", "schema") or r.details.get("exists") is False]
    return dg.AssetCheckSeverity.ERROR if wrong else dg.AssetCheckSeverity.WARN
