"""The static HTML report: per account and the portfolio, built from the published marts only."""

from orchestration.lib.report.render import build_report

__all__ = ["build_report"]
