"""``python -m gateway_contracts``: the same command line as ``gateway-contracts``."""

from gateway_contracts.cli import entry

entry()
