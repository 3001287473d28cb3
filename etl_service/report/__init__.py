"""The analyst's report: charts of the loaded data in one self-contained HTML page and PNGs."""

from etl_service.report.build import ReportFiles, write_report

__all__ = ["ReportFiles", "write_report"]
