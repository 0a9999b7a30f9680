"""Suite-wide settings: deterministic hypothesis in CI, with the seed printed."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# CI (and anyone who sets CI=true) gets derandomized, reproducible examples; locally hypothesis explores.
settings.register_profile(
    "ci", derandomize=True, deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def pytest_report_header() -> list[str]:
    profile = settings._current_profile
    return [
        f"hypothesis profile: {profile} (derandomize={settings.default.derandomize}); HYPOTHESIS_PROFILE=dev explores"
    ]
