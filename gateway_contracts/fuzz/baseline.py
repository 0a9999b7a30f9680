"""The fuzz baseline: findings a team has accepted, so CI fails only on new ones.

A JSON file listing fingerprints with what they stand for (operation, check, title, and what differs where the
title does not say) so a reviewer can read it. Findings are matched by fingerprint only; an entry whose finding no longer shows is reported as fixed, and kept
until the baseline is rewritten (``--update-baseline``), so a flaky finding does not come back as "new".
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway_contracts.fuzz.findings import Finding

FORMAT_VERSION = 1


class BaselineError(Exception):
    pass


@dataclass(frozen=True)
class Baseline:
    entries: dict[str, dict[str, Any]]

    @classmethod
    def load(cls, path: Path) -> Baseline:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BaselineError(f"no baseline at {path} (create it with --update-baseline)") from None
        except (OSError, ValueError) as exc:
            raise BaselineError(f"cannot read the baseline {path}: {exc}") from None
        if not isinstance(raw, dict) or raw.get("format_version") != FORMAT_VERSION:
            raise BaselineError(f"{path} is not a fuzz baseline (format_version {FORMAT_VERSION})")
        entries = raw.get("findings")
        if not isinstance(entries, list) or not all(
            isinstance(e, dict) and "fingerprint" in e for e in entries
        ):
            raise BaselineError(f"{path}: 'findings' must be a list of objects with a fingerprint")
        return cls({str(e["fingerprint"]): e for e in entries})

    def mark(self, findings: list[Finding]) -> list[Finding]:
        """The findings with ``new`` set: False for those the baseline accepts."""
        return [dataclasses.replace(f, new=f.fingerprint not in self.entries) for f in findings]

    def fixed(self, findings: list[Finding]) -> list[dict[str, Any]]:
        seen = {f.fingerprint for f in findings}
        return [entry for key, entry in sorted(self.entries.items()) if key not in seen]


def save(path: Path, findings: list[Finding]) -> None:
    entries = [
        {
            "fingerprint": f.fingerprint,
            "operation": f.operation,
            "check": f.check,
            "title": f.title,
            **({"detail": f.detail} if f.detail else {}),
        }
        for f in findings
    ]
    document = {"format_version": FORMAT_VERSION, "findings": entries}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
