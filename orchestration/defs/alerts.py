"""Alerts (orchestration/lib/alerts): an asset after publishing, and a sensor for failed runs.

Without `<data>/alerts.yml` both do nothing and touch no network. A delivery that fails is logged and
retried by the next run; it does not fail the run (that would only send a `run_failed` alert through the
same broken destination). An alerts.yml that cannot be used fails the asset with its file and line.
"""

import dagster as dg

from orchestration.defs.resources import DataDirResource
from orchestration.lib.alerts import AlertsConfigError, alert_run_failed, innermost_error, run_alerts

ALERTS = dg.AssetKey(["alerts", "sent"])


def build_alerts_asset(published: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=ALERTS,
        deps=published,
        group_name="alerts",
        description="Messages for alerts.yml's rules over the published marts and the quarantine reports, "
        "each sent once (state in <data>/warehouse/alerts_sent.json).",
    )
    def alerts(context: dg.AssetExecutionContext, data_dir: DataDirResource) -> dg.MaterializeResult:
        try:
            outcome = run_alerts(data_dir.paths)
        except AlertsConfigError as error:
            raise dg.Failure(description=str(error)) from None
        if not outcome.configured:
            context.log.info("no alerts.yml: no alert evaluated, nothing sent")
        for delivery in outcome.failed:
            context.log.warning(f"not delivered, the next run tries again: {delivery}")
        return dg.MaterializeResult(
            metadata={
                "configured": outcome.configured,
                "events": outcome.events,
                "sent_now": len(outcome.sent),
                "already_sent": outcome.already_sent,
                "failed_deliveries": len(outcome.failed),
                "sent": dg.MetadataValue.md("\n".join(f"- {d}" for d in outcome.sent) or "none"),
            }
        )

    return alerts


@dg.run_failure_sensor(
    name="alert_on_run_failure",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Sends alerts.yml's run_failed rule for every failed run of this code location.",
)
def alert_on_run_failure(context: dg.RunFailureSensorContext, data_dir: DataDirResource):
    run = context.dagster_run
    steps = [e.step_key for e in context.get_step_failure_events() if e.step_key]
    error = context.failure_event.message or ""
    for event in context.get_step_failure_events():
        if event.event_specific_data and event.event_specific_data.error:
            error = innermost_error(event.event_specific_data.error)
            break
    try:
        outcome = alert_run_failed(
            data_dir.paths, run_id=run.run_id, job_name=run.job_name, failed_steps=steps, error=error
        )
    except AlertsConfigError as error:
        context.log.error(str(error))
        return
    for delivery in outcome.failed:  # the sensor sees a run once: the next alerts run tries again
        context.log.warning(f"not delivered, the next run tries again: {delivery}")
