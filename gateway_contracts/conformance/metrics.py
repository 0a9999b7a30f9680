"""Scraping and parsing a gateway's metrics endpoint for the metrics clauses.

The endpoint's path and auth style are the target's. A redirect is followed (same origin only, a few hops) so
the label clauses still judge the exposition; that there was one is MET-011's finding, not theirs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text
from prometheus_client.samples import Sample

from gateway_contracts.conformance.client import Exchanges
from gateway_contracts.failures import Blocked

OPENMETRICS = "application/openmetrics-text; version=1.0.0"
MAX_REDIRECTS = 3


@dataclass
class Scrape:
    content_type: str
    text: str
    samples: list[Sample]
    families: dict[str, str]
    """family name → type."""
    redirects: list[str] = field(default_factory=list)
    """The redirect answers met on the way (status and location), empty when the endpoint answered in place."""

    def value(self, name: str, **labels: str) -> float:
        return sum(
            s.value
            for s in self.samples
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        )

    def label_values(self, label: str) -> set[str]:
        return {s.labels[label] for s in self.samples if label in s.labels}


def fetch(gw: Exchanges, key: str | None = None, keyed: bool = True) -> tuple[int, str, str, list[str]]:
    """GET the metrics endpoint with the key (the target's, unless given; none when not ``keyed``), following
    same-origin redirects: the final status, content type and text, and the redirects met."""
    target = gw.target
    path = target.metrics_path
    redirects: list[str] = []
    headers = {**(target.metrics_headers(key) if keyed else {}), "accept": OPENMETRICS}
    r = gw.request("GET", path, headers=headers, auth=False)
    while 300 <= r.status_code < 400 and len(redirects) < MAX_REDIRECTS:
        location = r.headers.get("location", "")
        redirects.append(f"{r.status_code} to {location[:120]}")
        nxt = urljoin(target.base_url + path, location)
        if urlsplit(nxt).netloc != urlsplit(target.base_url).netloc:
            break  # never carry the key to another origin
        path = nxt[len(target.base_url) :] if nxt.startswith(target.base_url) else urlsplit(nxt).path
        r = gw.request("GET", path, headers=headers, auth=False)
    return r.status_code, r.headers.get("content-type", ""), r.text, redirects


def scrape(gw: Exchanges, key: str | None = None) -> Scrape:
    """The exposition, parsed strictly. Without one (no 200 with the key, or a line the parser refuses) no
    metrics clause can be judged: that is MET-002's failure, and the other clauses are blocked by it."""
    status, ctype, text, redirects = fetch(gw, key)
    if status != 200:
        raise Blocked("MET-002", f"{gw.target.metrics_path} with the key answered {status}", text[:200])
    parse = parse_openmetrics if ctype.startswith("application/openmetrics-text") else parse_text
    try:
        families = list(parse(text))  # strict: raises on any malformed line
    except Exception as exc:
        raise Blocked("MET-002", "the exposition does not parse", str(exc)[:200]) from None
    return Scrape(
        ctype,
        text,
        [s for f in families for s in f.samples],
        {f.name: f.type for f in families},
        redirects,
    )
