"""A single-file HTML report for people: verdict, run facts, per-profile summary, then every clause.

Rendered on the server side, so the page is complete without JavaScript; the inlined script only filters (by
profile and result) and expands or collapses. It fetches nothing: the CSS and JS are inlined, there are no
images, fonts or links to other origins, and a Content-Security-Policy forbids any fetch, so even a gateway's
response that happens to contain markup could not make the page call out (it is escaped anyway).

Failing clauses start open, with the last exchange of their first finding open: the first screen a reviewer
sees of a failing clause shows what broke.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from html import escape
from importlib import resources
from typing import Any

from gateway_contracts.reports.model import (
    ClauseResult,
    Exchange,
    Failure,
    ProfileSummary,
    Report,
    human_time,
)

RESULTS = ("failed", "untested", "waived", "passed", "skipped")
CHANGE_LABEL = {
    "new-failure": "new failure",
    "still-failing": "old failure",
    "fixed": "fixed",
    "no-longer-checked": "no longer checked",
}
CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"


@cache
def _asset(name: str) -> str:
    return resources.files("gateway_contracts.reports").joinpath("assets", name).read_text(encoding="utf-8")


def e(value: Any) -> str:
    return escape(str(value), quote=True)


def _pretty(body: str) -> str:
    """A JSON body indented for reading; anything else as it came."""
    stripped = body.strip()
    if stripped[:1] in ("{", "["):
        try:
            return json.dumps(json.loads(stripped), indent=2, ensure_ascii=False)
        except ValueError:
            pass
    return body


def _headers_text(headers: dict[str, str]) -> str:
    return "\n".join(f"{k}: {v}" for k, v in headers.items())


def _exchange(x: Exchange, open_: bool) -> str:
    request = f"{x.method} {x.path}\n{_headers_text(x.request_headers)}"
    if x.request_body:
        request += "\n\n" + _pretty(x.request_body)
    label = "Stream transcript" if x.stream else "Response"
    response = f"{x.status}\n{_headers_text(x.response_headers)}\n\n{x.response_body if x.stream else _pretty(x.response_body)}"
    return (
        f'<details class="evidence exchange"{" open" if open_ else ""}><summary>{e(x.summary)}</summary>'
        f'<div class="sides"><div><h4>Request</h4><pre>{e(request)}</pre></div>'
        f"<div><h4>{label}</h4><pre>{e(response)}</pre></div></div></details>"
    )


def _json_block(title: str, value: Any) -> str:
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return f'<details class="evidence"><summary>{e(title)}</summary><pre>{e(text)}</pre></details>'


def _finding(f: Failure, first: bool) -> str:
    ev = f.evidence
    parts = [
        '<div class="finding">',
        f'<div class="test">{e(f.test)} ({e(f.when)})</div>',
        f'<pre class="message">{e(f.message)}</pre>',
    ]
    for i, x in enumerate(ev.exchanges):
        # The last exchange of the first finding is what explains the failure: open it, keep the rest folded.
        parts.append(_exchange(x, open_=first and i == len(ev.exchanges) - 1))
    for rows in ev.rows:
        parts.append(
            _json_block(f"rows: {rows.table} of {rows.request_id} ({len(rows.rows)})", list(rows.rows))
        )
    if ev.log_lines:
        text = "\n".join(f"{ln.number}: {ln.line}" for ln in ev.log_lines)
        parts.append(
            f'<details class="evidence"><summary>log lines ({len(ev.log_lines)})</summary><pre>{e(text)}</pre></details>'
        )
    if ev.other:
        parts.append(_json_block("other evidence", ev.other))
    parts.append("<h4>Reproduce</h4>")
    for c in f.reproduce:
        parts.append(
            f'<div class="reproduce" data-kind="{e(c.kind)}"><pre>{e(c.command)}</pre>'
            '<button type="button">copy</button></div>'
        )
    parts.append("</div>")
    return "".join(parts)


def _fuzz(r: Report) -> str:
    """The fuzz findings of the run, each with its clause, check and the curl that reproduces it."""
    if r.fuzz is None:
        return ""
    items = []
    for f in r.fuzz.findings:
        state = "new" if f.new else "accepted by the baseline"
        curl = f"<pre>{escape(f.curl)}</pre>" if f.curl else ""
        items.append(
            f'<li><span class="badge failed">{escape(f.clause or "no clause")}</span> '
            f"<code>{escape(f.check)}</code> {escape(f.operation)}: {escape(f.title)} ({state})"
            f"<details><summary>message</summary><pre>{escape(f.message[:4000])}</pre>{curl}</details></li>"
        )
    head = f"Fuzz findings ({len(r.fuzz.findings)}; {r.fuzz.requests} requests, seed {r.fuzz.seed})"
    return f'<section id="fuzz"><h2>{escape(head)}</h2><ul>{"".join(items)}</ul></section>'


def _failures_first(clauses: Sequence[ClauseResult]) -> list[ClauseResult]:
    """Failing clauses first (new failures before old ones), then the rest in ID order: a reviewer reads top-down."""
    rank = {"failed": 0, "untested": 1, "waived": 2, "skipped": 4, "passed": 3}
    return sorted(clauses, key=lambda c: (rank.get(c.result, 5), c.change != "new-failure", c.id))


def _clause(c: ClauseResult) -> str:
    change = f'<span class="tag {e(c.change)}">{e(CHANGE_LABEL[c.change])}</span>' if c.change else ""
    headline = ""
    if c.result in ("failed", "untested") and c.headline:
        headline = f'<span class="headline">{e(c.headline[:300])}</span>'
    opened = " open" if c.result in ("failed", "untested") else ""
    body = [
        f'<p class="statement">{e(c.statement)}</p>',
        f'<p class="source">{e(c.source)} · outcome {e(c.outcome)}</p>',
    ]
    if c.waiver is not None:
        body.append(f'<p class="waiver">Waived until {e(c.waiver.expires)}: {e(c.waiver.reason)}</p>')
    if c.reasons and not c.failures:
        body.append("<h4>Why</h4><ul>" + "".join(f"<li>{e(r)}</li>" for r in c.reasons) + "</ul>")
    if c.failures:
        body.append(
            f"<h4>Findings ({len(c.failures)})</h4>"
            + "".join(_finding(f, i == 0) for i, f in enumerate(c.failures))
        )
    if c.tests:
        items = "".join(
            f"<li>{e(t.outcome)} · {e(t.nodeid)} ({e(t.when)}, {t.duration:.3f}s)</li>" for t in c.tests
        )
        body.append(f'<h4>Tests ({len(c.tests)})</h4><ul class="tests">{items}</ul>')
    return (
        f'<details class="clause {e(c.result)}" id="clause-{e(c.id)}" data-profile="{e(c.profile)}" '
        f'data-result="{e(c.result)}"{opened}><summary>'
        f'<span class="badge {e(c.result)}">{e(c.result)}</span><code>{e(c.id)}</code>'
        f'<span class="level">{e(c.level)}</span><span class="title">{e(c.title)}</span>'
        f'<span class="tag">{e(c.profile)}</span>{change}{headline}</summary>'
        f'<div class="body">{"".join(body)}</div></details>'
    )


def _count_cell(n: int) -> str:
    return f'<td class="zero">{n}</td>' if n == 0 else f"<td>{n}</td>"


def _profile_row(p: ProfileSummary) -> str:
    reasons = "; ".join(f"{s.reason} ({len(s.clauses)})" for s in p.skip_reasons)
    counts = "".join(_count_cell(n) for n in (p.passed, p.failed, p.untested, p.waived, p.skipped))
    return (
        f'<tr><td><code>{e(p.id)}</code> {e(p.title)}</td>{counts}<td class="reasons">{e(reasons)}</td></tr>'
    )


def _header(r: Report) -> str:
    v = r.verdict
    cls, word = ("pass", "PASS") if v.passed else ("fail", "FAIL")
    reasons = "".join(f"<li>{e(x)}</li>" for x in v.reasons)
    t = r.target
    facts = [
        ("Target", t.description + (f" ({t.identified_by})" if t.identified_by else "")),
        ("URL", t.url or "—"),
        ("Contract", r.contracts_digest),
        ("Harness", f"gateway-contracts {r.harness_version}"),
        (
            "Run",
            f"{human_time(r.started_at)} · {r.duration_seconds:.1f}s · seed {'—' if r.seed is None else r.seed}",
        ),
        ("Profiles", ", ".join(r.profiles_selected) or "—"),
        ("Policy", "fail on new failures only" if v.policy == "new" else "fail on any MUST failure"),
    ]
    if r.baseline is not None:
        facts.append(("Baseline", f"{r.baseline.source} (run {human_time(r.baseline.started_at)})"))
    dl = "".join(f"<dt>{e(k)}</dt><dd>{e(val)}</dd>" for k, val in facts)
    return (
        f'<header class="verdict {cls}"><h1><span class="word">{word}</span>'
        f"gateway-contracts compliance report</h1>"
        f'{f"<ul>{reasons}</ul>" if reasons else ""}<dl class="meta">{dl}</dl></header>'
    )


def _links(ids: Sequence[str]) -> str:
    return ", ".join(f'<a href="#clause-{e(i)}"><code>{e(i)}</code></a>' for i in ids) or "none"


def _baseline(r: Report) -> str:
    b = r.baseline
    if b is None:
        return ""
    rows = [
        ("New failures", b.new_failures),
        ("Fixed", b.fixed),
        ("Still failing (old)", b.still_failing),
        ("Failing before, not checked now", b.no_longer_checked),
    ]
    items = "".join(f"<li>{e(label)}: {_links(ids)}</li>" for label, ids in rows)
    return f'<section id="baseline"><h2>Against the baseline</h2><ul>{items}</ul></section>'


def _waivers(r: Report) -> str:
    if not r.waivers:
        return ""
    items = "".join(
        f'<li><a href="#clause-{e(w.clause)}"><code>{e(w.clause)}</code></a> {e(w.status)}, '
        f"expires {e(w.expires)}: {e(w.reason)}</li>"
        for w in r.waivers
    )
    return f'<section id="waivers"><h2>Waivers</h2><ul>{items}</ul></section>'


def _filters(r: Report) -> str:
    options = "".join(f'<option value="{e(p.id)}">{e(p.id)}</option>' for p in r.profiles)
    boxes = "".join(
        f'<label><input type="checkbox" data-result-filter value="{res}" checked> '
        f'<span class="badge {res}">{res}</span> {sum(c.result == res for c in r.clauses)}</label>'
        for res in RESULTS
    )
    return (
        '<nav id="filters"><label>Profile <select id="filter-profile"><option value="">all</option>'
        f"{options}</select></label>{boxes}"
        '<button type="button" id="expand-all">expand all</button>'
        '<button type="button" id="collapse-all">collapse all</button>'
        f'<span class="count" id="shown-count">{len(r.clauses)} clauses</span></nav>'
    )


def render(r: Report) -> str:
    word = "PASS" if r.verdict.passed else "FAIL"
    failing = [c.id for c in r.failed]
    summary = f"<p>Failing: {_links(failing)}</p>" if failing else ""
    table = (
        '<table class="profiles"><thead><tr><th>profile</th><th>passed</th><th>failed</th><th>untested</th>'
        "<th>waived</th><th>skipped</th><th>skip reasons</th></tr></thead><tbody>"
        + "".join(_profile_row(p) for p in r.profiles)
        + "</tbody></table>"
    )
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{word} · gateway-contracts · {e(r.target.description)}</title>"
        f"<style>{_asset('report.css')}</style></head><body>"
        f"{_header(r)}"
        f'<section id="profiles"><h2>Profiles</h2>{table}{summary}</section>'
        f"{_baseline(r)}{_waivers(r)}{_filters(r)}"
        f"{_fuzz(r)}"
        f'<main id="clauses">{"".join(_clause(c) for c in _failures_first(r.clauses))}</main>'
        f"<script>{_asset('report.js')}</script></body></html>\n"
    )
