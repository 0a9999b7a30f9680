"""What the suite checks: a gateway by base URL, plus what the user could give (database, log file, internal key,
the scripted upstream it fronts) and the optional features it offers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

KNOWN_FEATURES = ("scripted-upstream", "backend-selection", "upstream-echo", "kill-switch")


@dataclass(frozen=True)
class Target:
    base_url: str
    db_url: str | None = None
    log_file: Path | None = None
    internal_key: str | None = None
    upstream_url: str | None = None
    """The scripted upstream the gateway fronts, when it does (``GET /_received`` shows what the gateway sent)."""
    kill_switch_url: str | None = None
    """A second instance of the gateway whose kill-switch threshold is already reached."""
    kill_switch_db_url: str | None = None
    features: frozenset[str] = field(default_factory=frozenset)
    body_limit: int = 32 * 1024 * 1024
    """The gateway's request size limit in bytes; a body one byte larger must get 413."""
    timeout: float = 30.0
    """Per-request timeout: a gateway that hangs fails the test that waited, it never hangs the run."""
    name: str = "gateway"
    embedded: bool = False

    def provides(self, requirement: str) -> bool:
        return bool(getattr(self, requirement, None))

    def check_args(self) -> list[str]:
        """The ``gateway-contracts check`` options that hand it everything this target offers."""
        args = ["--target", self.base_url, "--body-limit", str(self.body_limit)]
        for flag, value in (
            ("--db-url", self.db_url),
            ("--log-file", str(self.log_file) if self.log_file else None),
            ("--internal-key", self.internal_key),
            ("--upstream-url", self.upstream_url),
            ("--kill-switch-url", self.kill_switch_url),
            ("--kill-switch-db-url", self.kill_switch_db_url),
        ):
            if value:
                args += [flag, value]
        for feature in sorted(self.features):
            args += ["--feature", feature]
        return args
