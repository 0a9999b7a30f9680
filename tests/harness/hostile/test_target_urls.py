"""``--target`` values a CI script can produce, generated from schemes, separators, authorities and tails (a
seeded sample of their product), against ``check`` and ``fuzz``."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from pathlib import Path

from gateway_contracts.errors import EXIT_UNREACHABLE, EXIT_USAGE
from tests.harness.hostile.cases import SEED, Case, assert_all_pass, run_all, suite_argv


def target_urls() -> Iterator[tuple[str, frozenset[int]]]:
    """``--target`` values with the statuses ``check`` and ``fuzz`` document for them: 2 for what is not an
    http(s) URL, 3 for one that cannot be reached (every host here is 127.0.0.1 on a closed port, or none)."""
    yield "", frozenset({EXIT_USAGE})  # an unset $URL in CI: never "use the embedded gateway"
    yield " ", frozenset({EXIT_USAGE})
    yield "http://[::1", frozenset({EXIT_USAGE})
    yield "http://127.0.0.1:1", frozenset({EXIT_UNREACHABLE})
    schemes = ["http", "https", "HTTP", "ftp", "file", "", "h ttp", "http\t"]
    separators = ["://", ":/", ":", "//", ""]
    authorities = [
        "127.0.0.1:1",
        "127.0.0.1:99999",
        "127.0.0.1:-1",
        "127.0.0.1:x",
        "127.0.0.1:1:1",
        "[127.0.0.1]:1",
        "[::1",
        "u:p@127.0.0.1:1",
        "@127.0.0.1:1",
        "",
    ]
    tails = ["", "/", "/\x7f", "/a b", "?q=\n", "#f", "/%zz", "/" + "a" * 65536, "\r\nx: y"]
    combos = list(itertools.product(schemes, separators, authorities, tails))
    for scheme, sep, authority, tail in random.Random(SEED).sample(combos, 44):
        url = f"{scheme}{sep}{authority}{tail}"
        if url in ("", " ", "http://[::1", "http://127.0.0.1:1"):
            continue
        yield url, frozenset({EXIT_USAGE, EXIT_UNREACHABLE})


def test_check_and_fuzz_on_bad_target_urls(tmp_path: Path) -> None:
    """``--target`` values a CI script can produce: one line, exit 2 (not a URL) or 3 (nothing there), fast."""
    cases = []
    for i, (url, statuses) in enumerate(target_urls()):
        report = str(tmp_path / f"t{i}")
        here = url != ""  # until refused, an empty --target starts the embedded gateway: a subprocess
        argv = suite_argv("check", url, "--report-dir", report)
        cases.append(Case(f"check-target-{i}", argv, statuses, in_process=here))
        if i % 3 == 0:
            argv = suite_argv("fuzz", url, "--report-dir", report + "-fuzz")
            cases.append(Case(f"fuzz-target-{i}", argv, statuses, in_process=here))
    assert_all_pass(run_all(cases))
