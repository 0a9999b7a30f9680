"""Regenerate ``reports/examples/``: the reports of a passing run and of a failing one, as ``check`` writes them.

    python -m reference_server.examples          (or: make examples)

- ``passing/``: every profile against the embedded reference gateway;
- ``failing/``: every profile against a deliberately broken copy of it (``reference_server.mutants``), with
  ``passing/report.json`` as the baseline, so its reports show a new failure against the baseline.

Both are real runs of ``gateway-contracts check`` (a command, not an import), given the reference's target file
and a start command that runs ``reference-gateway embedded``, as ``make check`` does: the URLs, ports and paths in
them are those of the run's throwaway gateways. No waivers file applies (an empty one
is given explicitly), so the examples do not depend on the checkout's ``waivers.yaml``.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from reference_server.mutants import MUTANTS
from reference_server.target_file import REFERENCE_TARGET

DEFAULT_OUTPUT = Path("reports/examples")
FAILING_MUTANT = "dead-string-llms"
"""Breaks one clause (DISC-002, llms.txt names a legacy model) and nothing else, so the failing example is
about one finding whose evidence fits on a screen."""
RUN_TIMEOUT_S = 900.0


def _run(work: Path, out: Path, waivers: Path, mutant: str | None, *extra: str) -> int:
    if out.exists():
        shutil.rmtree(out)
    start = [
        sys.executable,
        "-m",
        "reference_server",
        "embedded",
        "--workdir",
        str(work / (mutant or "reference")),
    ]
    start += ["--mutant", mutant] if mutant else []
    command = [sys.executable, "-m", "gateway_contracts", "check", "--config", str(REFERENCE_TARGET)]
    command += ["--start", shlex.join(start)]
    command += ["--report-dir", str(out), "--waivers", str(waivers), *extra]
    code = subprocess.run(command, check=False, timeout=RUN_TIMEOUT_S).returncode
    shutil.rmtree(out / "started", ignore_errors=True)  # the start command's log, not an example
    return code


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
    p = argparse.ArgumentParser(prog="python -m reference_server.examples", description=__doc__)
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
