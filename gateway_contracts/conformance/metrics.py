"""Scraping and parsing a gateway's ``/metrics`` for the metrics clauses."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text
from prometheus_client.samples import Sample

from gateway_contracts.conformance.client import Exchanges

KEY_HEADER = "X-Ainfera-Internal-Key"
OPENMETRICS = "application/openmetrics-text; version=1.0.0"


@dataclass
class Scrape:
    content_type: str
    text: str
    samples: list[Sample]
    families: dict[str, str]
    """family name → type."""

    def value(self, name: str, **labels: str) -> float:
        return sum(
            s.value
            for s in self.samples
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        )

    def label_values(self, label: str) -> set[str]:
        return {s.labels[label] for s in self.samples if label in s.labels}


def scrape(gw: Exchanges, key: str) -> Scrape:
    r = gw.get("/metrics", headers={KEY_HEADER: key, "accept": OPENMETRICS})
    assert r.status_code == 200, f"/metrics with the key: {r.status_code} {r.text[:200]}"
    ctype = r.headers.get("content-type", "")
    parse = parse_openmetrics if ctype.startswith("application/openmetrics-text") else parse_text
    families = list(parse(r.text))  # strict: raises on any malformed line
    return Scrape(
        ctype,
        r.text,
        [s for f in families for s in f.samples],
        {f.name: f.type for f in families},
    )
