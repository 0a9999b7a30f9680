"""The harness's one TLS context, shared by every HTTP client of a run (preflight, the suite, its helpers)."""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def tls() -> ssl.SSLContext:
    """httpx's default context (the CA bundle, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``), built once. Without it httpx
    builds one per client, loading the CA bundle each time: about 25 ms, more than a typical test's calls take,
    paid by every client even against a plain-HTTP gateway."""
    return httpx.create_ssl_context()
