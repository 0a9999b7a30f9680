"""Tests of the upstream adapters (``reference_server/upstream``), beside the cassettes they replay."""
