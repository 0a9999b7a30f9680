"""The target of a run: how to reach a gateway, how to talk to it and what it offers (``model``), every option
defined once (``options``), read from a TOML file and flags (``config``), and checked before any clause is
judged (``preflight``)."""

from gateway_contracts.target.model import DEFAULT_BODY_LIMIT, DEFAULT_TIMEOUT, KNOWN_NEEDS, Target
from gateway_contracts.target.options import FEATURES, SURFACES

KNOWN_FEATURES = FEATURES

__all__ = [
    "DEFAULT_BODY_LIMIT",
    "DEFAULT_TIMEOUT",
    "FEATURES",
    "KNOWN_FEATURES",
    "KNOWN_NEEDS",
    "SURFACES",
    "Target",
]
