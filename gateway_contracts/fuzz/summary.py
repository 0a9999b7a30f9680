"""What a fuzz run exercised, per operation: requests, answers by class, streams. Printed and kept in the findings
file, because "found nothing" only means something next to "sent this much, to every operation"."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from gateway_contracts.fuzz.events import Interaction


@dataclass
class OperationStats:
    requests: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    streams: int = 0
    phases: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, object]:
        return {
            "requests": self.requests,
            "statuses": dict(sorted(self.statuses.items())),
            "streams": self.streams,
            "phases": dict(sorted(self.phases.items())),
        }


def coverage(interactions: list[Interaction], declared: list[str]) -> dict[str, OperationStats]:
    """Stats for every declared operation (zero when never called), in document order."""
    stats = {label: OperationStats() for label in declared}
    for item in interactions:
        if item.label not in stats:
            continue  # methods the document does not declare, which schemathesis probes on purpose
        entry = stats[item.label]
        entry.requests += 1
        entry.statuses[f"{item.status // 100}xx" if item.status else "none"] += 1
        entry.phases[item.phase] += 1
        if item.content_type == "text/event-stream":
            entry.streams += 1
    return stats


def unexercised(stats: dict[str, OperationStats]) -> list[str]:
    """Operations that never got an accepted (2xx) answer: the fuzzer did not get past their front door."""
    return [label for label, s in stats.items() if not s.statuses.get("2xx")]


def render_table(stats: dict[str, OperationStats]) -> list[str]:
    width = max((len(label) for label in stats), default=10) + 2
    lines = [f"{'operation':<{width}}{'requests':>9}{'2xx':>7}{'4xx':>7}{'5xx':>7}{'streams':>9}"]
    for label, s in stats.items():
        lines.append(
            f"{label:<{width}}{s.requests:>9}{s.statuses.get('2xx', 0):>7}{s.statuses.get('4xx', 0):>7}"
            f"{s.statuses.get('5xx', 0):>7}{s.streams:>9}"
        )
    return lines
