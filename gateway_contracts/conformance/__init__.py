"""The conformance suite: target-agnostic tests, one behaviour each, every one marked with the clauses it checks.

Run through ``gateway-contracts check`` or directly: ``pytest --pyargs gateway_contracts.conformance
--gateway-url URL``. Fixtures come from ``conftest.py`` here; options and clause bookkeeping from the plugin.
"""
