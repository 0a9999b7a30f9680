"""Compliance reports: the typed report of a run, its versioned JSON and what is rendered from it.

The report is typed values (``model``), built once from the test results (``gateway_contracts.results``) and
the fuzz outcome; ``report.json`` (schema: ``contracts/report.schema.json``) is that model serialised
(``codec``) and is the record of a run. Every other file is rendered from the model, and reading a
``report.json`` back gives the same model, so re-rendering an old report (``gateway-contracts report``) gives
exactly what ``check`` wrote:

- ``junit.xml``: one testsuite per profile, one testcase per clause, for CI test listings;
- ``report.md``: short, for a pull-request comment or a CI step summary;
- ``report.html``: one self-contained page for people (no network fetches), filterable, evidence expandable.

A baseline (an earlier report) and ``waivers.yaml`` change the verdict, never the recorded outcomes.
"""

from __future__ import annotations

from gateway_contracts.reports.schema import SCHEMA_VERSION, ReportError, validate_report

__all__ = ["SCHEMA_VERSION", "ReportError", "validate_report"]
