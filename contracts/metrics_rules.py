"""The /metrics label rules (``metrics-rules.yaml``): loaded once, and applied to the samples of a scrape.

The reference gateway takes its path cap and fold values from :func:`metrics_rules`; the suite passes the
samples of any gateway's exposition to :func:`label_violations`. Samples are plain ``(name, labels)`` pairs
here, so the check does not depend on which parser produced them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from contracts import load_yaml

HISTOGRAM_LABELS = frozenset({"le", "quantile"})
_SAMPLE_SUFFIXES = ("_total", "_created", "_bucket", "_count", "_sum", "_gcount", "_gsum", "_info")


@dataclass(frozen=True)
class FamilyRule:
    name: str
    type: str
    labels: frozenset[str]


@dataclass(frozen=True)
class ValueRule:
    allowed: frozenset[str] | None
    pattern: re.Pattern[str] | None
    other: str | None


@dataclass(frozen=True)
class MetricsRules:
    families: dict[str, FamilyRule]
    required_families: tuple[str, ...]
    forbidden_labels: frozenset[str]
    forbidden_label_parts: frozenset[str]
    forbidden_values: tuple[tuple[str, re.Pattern[str]], ...]
    path_label: str
    path_cap: int
    path_unmatched: str
    path_overflow: str
    path_template: re.Pattern[str]
    values: dict[str, ValueRule]

    def family_of(self, sample_name: str) -> FamilyRule | None:
        """The family a sample belongs to (``c_total`` and ``c_created`` to counter ``c``, ``h_bucket`` to
        histogram ``h``, ``i_info`` to info ``i``), whichever exposition format it came from."""
        if sample_name in self.families:
            return self.families[sample_name]
        for suffix in _SAMPLE_SUFFIXES:
            if sample_name.endswith(suffix) and sample_name[: -len(suffix)] in self.families:
                return self.families[sample_name[: -len(suffix)]]
        return None

    def label_is_forbidden(self, label: str) -> bool:
        norm = label.lower().replace("-", "_").replace(".", "_")
        return norm in self.forbidden_labels or any(p in self.forbidden_label_parts for p in norm.split("_"))


@functools.cache
def metrics_rules() -> MetricsRules:
    raw = load_yaml("metrics-rules.yaml")
    path = raw["path"]
    values: dict[str, ValueRule] = {}
    for label, spec in raw["values"].items():
        values[label] = ValueRule(
            allowed=frozenset(spec["allowed"]) if "allowed" in spec else None,
            pattern=re.compile(spec["pattern"]) if "pattern" in spec else None,
            other=spec.get("other"),
        )
    return MetricsRules(
        families={
            name: FamilyRule(name, spec["type"], frozenset(spec.get("labels", [])))
            for name, spec in raw["families"].items()
        },
        required_families=tuple(raw["required_families"]),
        forbidden_labels=frozenset(raw["forbidden_labels"]),
        forbidden_label_parts=frozenset(raw["forbidden_label_parts"]),
        forbidden_values=tuple((p["id"], re.compile(p["pattern"])) for p in raw["forbidden_value_patterns"]),
        path_label=path["label"],
        path_cap=int(raw["max_paths"]),
        path_unmatched=path["unmatched"],
        path_overflow=path["overflow"],
        path_template=re.compile(path["template_pattern"]),
        values=values,
    )


Sample = tuple[str, Mapping[str, str]]


def label_violations(samples: Iterable[Sample], rules: MetricsRules | None = None) -> list[str]:
    """Every way the samples break the label rules, one message each (empty when they conform)."""
    rules = rules or metrics_rules()
    problems: list[str] = []
    paths: set[str] = set()
    seen: set[str] = set()

    def report(message: str) -> None:
        if message not in seen:
            seen.add(message)
            problems.append(message)

    for name, labels in samples:
        family = rules.family_of(name)
        for label, value in labels.items():
            if label in HISTOGRAM_LABELS:
                continue
            if rules.label_is_forbidden(label):
                report(f"{name}: label {label!r} names an identity or unbounded value")
            if family is not None and label not in family.labels:
                report(f"{name}: label {label!r} is not one of {sorted(family.labels)}")
            for pattern_id, pattern in rules.forbidden_values:
                if label != rules.path_label and pattern.search(value):
                    report(f"{name}: label {label}={value!r} looks like a raw {pattern_id}")
            if label == rules.path_label:
                paths.add(value)
                if value not in (rules.path_unmatched, rules.path_overflow) and not rules.path_template.match(
                    value
                ):
                    report(f"{name}: path={value!r} is not a route template")
                if any(p.search(value) for _, p in rules.forbidden_values):
                    report(f"{name}: path={value!r} carries a raw id")
            # The closed value sets are those of the families the rules list (the seed's series); another
            # gateway's `status` or `outcome` label is held to the identity rules above, not to these sets.
            rule = rules.values.get(label) if family is not None else None
            if rule is not None:
                ok_values = (rule.allowed or frozenset()) | ({rule.other} if rule.other else set())
                if rule.allowed is not None and value not in ok_values:
                    report(f"{name}: {label}={value!r} is not one of {sorted(ok_values)}")
                if rule.pattern is not None and not rule.pattern.match(value):
                    report(f"{name}: {label}={value!r} does not match {rule.pattern.pattern}")
    if len(paths) > rules.path_cap:
        problems.append(f"{len(paths)} distinct path values, more than the cap of {rules.path_cap}")
    return problems
