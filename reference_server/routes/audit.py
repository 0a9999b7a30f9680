"""``GET /v1/audit/{request_id}``: the audit events of one call, where ``x-ainfera-audit-url`` points."""

from __future__ import annotations

import re

from aiohttp import web

from reference_server.errors import GatewayError, invalid_request
from reference_server.state import STATE

# fullmatch, not match with "$": "$" also matches before a trailing newline, so "req_…\n" would pass.
_REQUEST_ID = re.compile(r"req_[0-9a-f]{24}")


async def audit_events(request: web.Request) -> web.Response:
    request_id = request.match_info["request_id"]
    if not _REQUEST_ID.fullmatch(request_id):
        raise invalid_request("request_id must look like req_ followed by 24 hex digits")
    events = await request.app[STATE].capture.audit_events(request_id)
    if not events:
        raise GatewayError(404, "not_found_error", "no audit events for this request id")
    return web.json_response({"request_id": request_id, "events": events})
