"""How long the full default ``check`` takes, per profile (target: the whole run under a minute).

Runs ``gateway-contracts check`` exactly as ``make check`` does (embedded reference gateway, every profile) and
reads the per-test durations from its report, grouped by the profile of the clauses each test checks. A test that
checks clauses of several profiles counts once, under its first clause's profile. Baseline in the same run: the
start-up of the embedded target alone (three processes, migrations), which no check can avoid.

Run: ``python -m benchmarks.check_time``
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from gateway_contracts.cli import main as cli_main
from reference_server.embedded import embedded

TARGET_SECONDS = 60.0


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        with embedded(Path(tmp) / "startup-only"):
            pass
        startup = time.perf_counter() - t0

        report_dir = Path(tmp) / "report"
        t0 = time.perf_counter()
        code = cli_main(["check", "--report-dir", str(report_dir)])
        total = time.perf_counter() - t0
        report = json.loads((report_dir / "report.json").read_text())

    per_profile: dict[str, float] = defaultdict(float)
    seen: set[str] = set()
    for clause in report["clauses"]:
        for test in clause["tests"]:
            key = f"{test['nodeid']}::{test['when']}"
            if key in seen:
                continue
            seen.add(key)
            per_profile[clause["profile"]] += test["duration"]
    print()
    print(f"check wall time, every profile (exit {code})")
    print(f"{'profile':<12}{'seconds':>10}")
    for profile, seconds in sorted(per_profile.items(), key=lambda kv: -kv[1]):
        print(f"{profile:<12}{seconds:>10.1f}")
    print(f"{'tests total':<12}{sum(per_profile.values()):>10.1f}")
    print(f"{'start-up':<12}{startup:>10.1f}   (baseline: the embedded target alone)")
    print(f"{'wall':<12}{total:>10.1f}   = {total / TARGET_SECONDS:.2f} x the {TARGET_SECONDS:.0f}s target")


if __name__ == "__main__":
    main()
