"""/metrics is described in the internal OpenAPI document, with its key scheme, and absent from the public one."""

from __future__ import annotations

from openapi_spec_validator import validate

from contracts import load_yaml, openapi_document


def test_internal_document_describes_metrics_behind_the_key() -> None:
    """The internal document is valid OpenAPI 3.1; /metrics requires the X-Ainfera-Internal-Key header scheme
    and documents 200 (both exposition formats) and 401 (the Anthropic envelope)."""
    doc = load_yaml("openapi-internal.yaml")
    validate(doc)
    scheme = doc["components"]["securitySchemes"]["InternalKey"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "X-Ainfera-Internal-Key")
    op = doc["paths"]["/metrics"]["get"]
    assert op.get("security", doc["security"]) == [{"InternalKey": []}]
    assert set(op["responses"]["200"]["content"]) == {"application/openmetrics-text", "text/plain"}
    assert "401" in op["responses"]


def test_public_document_does_not_list_metrics() -> None:
    """The public contract (served at /openapi.json) has no /metrics path and no internal key scheme."""
    doc = openapi_document()
    assert "/metrics" not in doc["paths"]
    assert "InternalKey" not in doc.get("components", {}).get("securitySchemes", {})
