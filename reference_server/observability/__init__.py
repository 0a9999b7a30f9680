"""Observability of the reference gateway (BRIEF §4-§6): Prometheus metrics on a registry of its own, the
internal ``/metrics`` endpoint, JSON logs scrubbed by ``contracts.scrub``, the access log, and the
request scope that puts the request and trace ids on every log line of a call."""
