"""report.html: one self-contained file, opened in headless Chromium as a reviewer would open it.

No console errors, no request but the file itself, filters by profile and result that work, evidence that
expands, and a screenshot of the failing example showing the failed clause with its evidence. Skipped locally
without Chromium; under CI (``CI`` set) a missing Chromium fails, since ``.ci/run`` installs it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from gateway_contracts.reports.html import CSP
from tests.reports.chromium import Page, browser_page, chromium_binary
from tests.reports.support import EXAMPLES, MUTANT_CLAUSE, load

FAILING = EXAMPLES / "failing" / "report.html"
PASSING = EXAMPLES / "passing" / "report.html"
SCREENSHOT_DIR_ENV = "GATEWAY_CONTRACTS_SCREENSHOT_DIR"
"""Set it to keep the screenshots (e.g. as CI artefacts); by default they go to the test's tmp_path."""


@pytest.fixture(scope="module")
def chromium() -> str:
    binary = chromium_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but chromium is missing: .ci/run installs the Debian chromium package")
        pytest.skip("chromium not found (apt-get install chromium, or set CHROMIUM)")
    return binary


@pytest.mark.parametrize("path", [PASSING, FAILING], ids=["passing", "failing"])
def test_page_is_self_contained(path: Path) -> None:
    text = path.read_text()
    assert f'content="{CSP}"' in text
    assert not re.search(r"""<(link|img|iframe|object|embed|audio|video|source)\b""", text, re.I)
    assert not re.search(r"""<script[^>]+src=""", text, re.I)
    assert not re.search(r"""url\(\s*['"]?(?!data:)""", text), "no CSS that fetches"
    assert not re.search(r"""\b(fetch|XMLHttpRequest|WebSocket|EventSource|import)\s*\(""", text)


async def _clause_visible(page: Page, selector: str) -> bool:
    return bool(
        await page.evaluate(
            f"""(() => {{ const el = document.querySelector({selector!r});
                if (!el) return false; const r = el.getBoundingClientRect();
                return r.height > 0 && r.top >= 0 && r.top < window.innerHeight; }})()"""
        )
    )


@pytest.mark.parametrize("path", [PASSING, FAILING], ids=["passing", "failing"])
async def test_no_console_errors_and_no_fetches(chromium: str, path: Path) -> None:
    async with browser_page(chromium) as page:
        await page.open(path.as_uri())
        total = await page.evaluate("document.querySelectorAll('details.clause').length")
        await page.evaluate("document.getElementById('expand-all').click()")
        opened = await page.evaluate("document.querySelectorAll('details.clause[open]').length")
        await page.evaluate("document.getElementById('collapse-all').click()")
        closed = await page.evaluate("document.querySelectorAll('details.clause[open]').length")
        errors = page.errors()
        requests = page.requests
    doc = load(path.with_name("report.json"))
    assert total == opened == len(doc["clauses"]) and closed == 0
    assert errors == [], errors
    assert requests == [path.as_uri()], "the page must fetch nothing"


async def test_filters_by_profile_and_result(chromium: str) -> None:
    doc = load(FAILING.with_name("report.json"))
    async with browser_page(chromium) as page:
        await page.open(FAILING.as_uri())
        shown = "document.querySelectorAll('details.clause:not([hidden])').length"
        assert await page.evaluate(shown) == len(doc["clauses"])
        await page.evaluate(
            """(() => { const s = document.getElementById('filter-profile'); s.value = 'ainfera';
                        s.dispatchEvent(new Event('change')); })()"""
        )
        assert await page.evaluate(shown) == sum(c["profile"] == "ainfera" for c in doc["clauses"])
        await page.evaluate(
            """document.querySelectorAll('input[data-result-filter]').forEach(b => {
                 if (b.value !== 'failed') { b.click(); } })"""
        )
        visible = await page.evaluate(
            "[...document.querySelectorAll('details.clause:not([hidden])')].map(d => d.id)"
        )
        count = await page.evaluate("document.getElementById('shown-count').textContent")
        hash_ = await page.evaluate("location.hash")
        errors = page.errors()
    assert visible == [f"clause-{MUTANT_CLAUSE}"]
    assert count == f"showing 1 of {len(doc['clauses'])} clauses"
    assert "profile=ainfera" in hash_ and "hide=" in hash_
    assert errors == []


async def test_screenshot_of_failing_example_shows_clause_and_evidence(chromium: str, tmp_path: Path) -> None:
    keep = os.environ.get(SCREENSHOT_DIR_ENV)
    out = Path(keep) if keep else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    async with browser_page(chromium) as page:
        await page.open(FAILING.as_uri(), width=1280, height=900)
        # What a reviewer does: follow the "Failing:" link at the top to the clause.
        await page.evaluate(
            f"document.querySelector('#profiles a[href=\"#clause-{MUTANT_CLAUSE}\"]').click()"
        )
        clause = f"#clause-{MUTANT_CLAUSE}"
        state = await page.evaluate(
            f"""(() => {{ const c = document.querySelector('{clause}');
                const x = c.querySelector('details.exchange');
                return {{open: c.open, exchangeOpen: x.open, text: c.innerText}}; }})()"""
        )
        visible = {
            "clause": await _clause_visible(page, f"{clause} > summary"),
            "request": await _clause_visible(page, f"{clause} details.exchange .sides"),
        }
        png = await page.screenshot()
        errors = page.errors()
    shot = out / "failing-example.png"
    shot.write_bytes(png)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000
    assert state["open"] and state["exchangeOpen"], "the failing clause and its evidence start expanded"
    assert visible == {"clause": True, "request": True}, f"not on screen: {visible} (see {shot})"
    assert "GET /llms.txt" in state["text"] and "ainfera-mithril" in state["text"]
    assert "curl -sS" in state["text"]
    assert errors == []
