"""Regenerate ``reports/examples/``: the reports of a passing run and of a failing one, as ``check`` writes them.

    python -m gateway_contracts.reports.examples          (or: make examples)

- ``passing/``: every profile against the embedded reference gateway;
- ``failing/``: every profile against a deliberately broken copy of it (``reference_server.mutants``), with
  ``passing/report.json`` as the baseline, so its reports show a new failure against the baseline.

Both are real runs through ``gateway-contracts check --target``, exactly as a user checks their own gateway: the
URLs, ports and paths in them are those of the run's throwaway gateways. No waivers file applies (an empty one
is given explicitly), so the examples do not depend on the checkout's ``waivers.yaml``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from gateway_contracts.embedded import embedded_target
from gateway_contracts.target import Target
from gateway_contracts.target.config import to_flags
from reference_server.mutants import MUTANTS

DEFAULT_OUTPUT = Path("reports/examples")
FAILING_MUTANT = "dead-string-llms"
"""Breaks one clause (DISC-002, llms.txt names a legacy model) and nothing else, so the failing example is
about one finding whose evidence fits on a screen."""


def check_args(
    target: Target, report_dir: Path, waivers: Path, profiles: tuple[str, ...] | None = None
) -> list[str]:
    """``check`` arguments that hand it everything the embedded target offers (its profiles, or ``profiles``)."""
    flags = to_flags(target, omit=("target.profiles",) if profiles is not None else ())
    chosen = [x for p in profiles or () for x in ("--profile", p)]
    return ["check", *flags, *chosen, "--report-dir", str(report_dir), "--waivers", str(waivers)]


def _run(work: Path, out: Path, waivers: Path, mutant: str | None, *extra: str) -> int:
    from gateway_contracts.cli import main

    if out.exists():
        shutil.rmtree(out)
    with embedded_target(work / (mutant or "reference"), mutant=mutant) as target:
        return main([*check_args(target, out, waivers), *extra])


def regenerate(output: Path, mutant: str = FAILING_MUTANT) -> tuple[int, int]:
    """Both runs; their exit statuses (0 and 1 when all is well)."""
    with tempfile.TemporaryDirectory(prefix="gateway-contracts-examples-") as tmp:
        work = Path(tmp)
        waivers = work / "waivers.yaml"
        waivers.write_text("version: 1\nwaivers: []\n", encoding="utf-8")
        passing = _run(work, output / "passing", waivers, None)
        baseline = output / "passing" / "report.json"
        failing = _run(work, output / "failing", waivers, mutant, "--baseline", str(baseline))
    return passing, failing


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m gateway_contracts.reports.examples", description=__doc__)
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help=f"default: {DEFAULT_OUTPUT}")
    p.add_argument("--mutant", choices=sorted(MUTANTS), default=FAILING_MUTANT, help="the broken gateway")
    args = p.parse_args(argv)
    passing, failing = regenerate(args.output, args.mutant)
    if (passing, failing) != (0, 1):
        print(
            f"examples: expected the reference to pass and the mutant to fail; check exited {passing} and "
            f"{failing}",
            file=sys.stderr,
        )
        return 1
    print(f"examples: regenerated {args.output}/passing and {args.output}/failing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
