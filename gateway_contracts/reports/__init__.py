"""Compliance reports: the versioned JSON report and what is derived from it.

``report.json`` (schema: ``contracts/report.schema.json``) is the record of a run; everything else is rendered
from it, so re-rendering an old report (``gateway-contracts report``) gives exactly what ``check`` wrote:

- ``junit.xml``: one testsuite per profile, one testcase per clause, for CI test listings;
- ``report.md``: short, for a pull-request comment or a CI step summary;
- ``report.html``: one self-contained page for people (no network fetches), filterable, evidence expandable.

A baseline (an earlier report) and ``waivers.yaml`` change the verdict, never the recorded outcomes.
"""

from __future__ import annotations

from gateway_contracts.reports.schema import SCHEMA_VERSION, ReportError, validate_report

__all__ = ["SCHEMA_VERSION", "ReportError", "validate_report"]
