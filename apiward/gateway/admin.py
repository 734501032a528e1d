"""The admin API, on its own listener: metrics, health, reload, API keys, recent alerts.

Every endpoint but ``/healthz`` and ``/readyz`` needs ``Authorization: Bearer
<gateway.admin.token>`` (``/metrics`` too, unless ``open-metrics``; ``/readyz`` shows the
upstream addresses only with it); with no token configured they all answer 403: an
admin API nobody protected is an admin API for everyone.

=========================  ===========================================================
``GET /healthz``           liveness: ``{"status": "ok", "generation": n}`` (no secrets)
``GET /readyz``            503 until the gateway started, or while no upstream is up
``GET /metrics``           Prometheus text format
``POST /reload``           re-read the config file; the old config stays on error (409)
``GET /keys``              API keys (id, name, scopes, roles, dates; never a key or hash)
``POST /keys``             ``{"name", "scopes", "roles", "expires_in"}`` -> the key, once
``DELETE /keys/{id}``      revoke a key (saved to the key file, and on the shared
                           revocation list so every gateway refuses it)
``GET /revocations``       the revocation list and whether the store answers
``POST /revocations``      ``{"kind": "key"|"token"|"subject", "id", "until"|"expires_in",
                           "note"}``: revoke on every gateway (within ``poll-interval``)
``DELETE /revocations/{kind}/{id}``  take a revocation back
``GET /alerts``            the latest alerts fired
=========================  ===========================================================
"""

from __future__ import annotations

import hmac
import json
import math
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apiward.gateway.app import Gateway
from apiward.gateway.auth_keys import save_key_file
from apiward.gateway.revocations import KINDS, RevocationError, parse_revocation

__all__ = ["admin_app"]


def admin_app(gateway: Gateway) -> Starlette:
    """The admin ASGI app for ``gateway`` (the admin section itself takes a restart)."""

    def authorised(request: Request, *, metrics: bool = False) -> Response | None:
        if metrics and gateway.section.admin.open_metrics:
            return None
        expected = gateway.admin_token  # expanded and checked when the gateway was built
        if not expected:
            return _error(403, "admin_token_not_configured")
        sent = request.headers.get("authorization", "")
        scheme, _, value = sent.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            value.strip().encode(), expected.encode()
        ):
            return _error(401, "admin_token_required", {"www-authenticate": 'Bearer realm="admin"'})
        return None

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "generation": gateway.generation})

    async def readyz(request: Request) -> Response:
        health = {a.name: a.proxy.health() for a in gateway.apis}
        ready = all(any(t.values()) for t in health.values())
        body: dict[str, Any] = {"ready": ready}
        if authorised(request) is None:  # upstream addresses only for the operator
            body["upstreams"] = health
        return JSONResponse(body, status_code=200 if ready else 503)

    async def metrics(request: Request) -> Response:
        if (denied := authorised(request, metrics=True)) is not None:
            return denied
        gateway.refresh_gauges()
        body, content_type = gateway.metrics.render()
        return Response(body, media_type=content_type)

    async def reload(request: Request) -> Response:
        if (denied := authorised(request)) is not None:
            return denied
        result = await gateway.reload()
        payload = {"ok": result.ok, "generation": result.generation, "message": result.message}
        return JSONResponse(payload, status_code=200 if result.ok else 409)

    async def list_keys(request: Request) -> Response:
        if (denied := authorised(request)) is not None:
            return denied
        store = gateway.keys
        if store is None:
            return _error(404, "no_key_store")
        return JSONResponse({"keys": [_public(r.to_dict()) for r in store.records()]})

    async def create_key(request: Request) -> Response:
        if (denied := authorised(request)) is not None:
            return denied
        store = gateway.keys
        if store is None or gateway.section.keys.file is None:
            return _error(404, "no_key_store")
        try:
            data = json.loads(await request.body() or b"{}")
            if not isinstance(data, dict):
                raise ValueError("a JSON object is expected")
            scopes, roles = _names(data, "scopes"), _names(data, "roles")
            expires_in = data.get("expires_in")
            if expires_in is not None and not (
                isinstance(expires_in, int | float)
                and not isinstance(expires_in, bool)
                and math.isfinite(expires_in)
                and expires_in > 0
            ):
                raise ValueError("expires_in must be a positive number of seconds")
            name = data.get("name")
            if name is not None and not isinstance(name, str):
                raise ValueError("name must be a string")
        except (ValueError, TypeError, RecursionError) as exc:
            return _error(400, "bad_key_request", detail=str(exc))
        async with gateway.reload_lock:  # a reload must not swap in a store read before this
            store = gateway.keys or store
            plaintext, record = store.generate_key(
                name or "unnamed",
                scopes=scopes,
                roles=roles,
                expires_at=time.time() + expires_in if expires_in else None,
            )
            save_key_file(gateway.section.keys.file, store.records())
        return JSONResponse({"key": plaintext, **_public(record.to_dict())}, status_code=201)

    async def revoke_key(request: Request) -> Response:
        if (denied := authorised(request)) is not None:
            return denied
        store = gateway.keys
        if store is None or gateway.section.keys.file is None:
            return _error(404, "no_key_store")
        async with gateway.reload_lock:  # a reload must not bring a revoked key back
            store = gateway.keys or store
            try:
                record = store.revoke(request.path_params["key_id"])
            except KeyError:
                return _error(404, "unknown_key")
            save_key_file(gateway.section.keys.file, store.records())
        try:  # the key file is this gateway's; the list reaches the others
            await gateway.revocations.revoke("key", record.key_id, until=record.expires_at)
        except Exception as exc:  # the file or Redis: the key file has it already
            detail = f"revoked in the key file, not on the shared list: {exc}"
            return _error(502, "revocation_not_shared", detail=detail)
        return JSONResponse(_public(record.to_dict()))

    async def list_revocations(request: Request) -> Response:
        if (denied := authorised(request)) is not None:
            return denied
        entries = [r.to_dict() for r in gateway.revocations.entries()]
        return JSONResponse({"revocations": entries, **gateway.revocations.status()})

    async def add_revocation(request: Request) -> Response:
        if (denied := authorised(request)) is not None:
            return denied
        try:
            data = json.loads(await request.body() or b"{}")
            parsed = parse_revocation(data, now=time.time())
        except (ValueError, RecursionError, RevocationError) as exc:
            return _error(400, "bad_revocation", detail=str(exc))
        try:
            entry = await gateway.revocations.revoke(
                parsed.kind, parsed.value, until=parsed.until, note=parsed.note, at=parsed.at
            )
        except Exception as exc:  # the store is down: nothing was revoked, say so
            return _error(503, "revocation_store_unavailable", detail=str(exc))
        return JSONResponse(entry.to_dict(), status_code=201)

    async def remove_revocation(request: Request) -> Response:
        if (denied := authorised(request)) is not None:
            return denied
        kind = request.path_params["kind"]
        if kind not in KINDS:
            return _error(404, "unknown_kind")
        try:
            removed = await gateway.revocations.unrevoke(kind, request.path_params["value"])
        except Exception as exc:
            return _error(503, "revocation_store_unavailable", detail=str(exc))
        if not removed:
            return _error(404, "not_revoked")
        return JSONResponse({"removed": {"kind": kind, "id": request.path_params["value"]}})

    async def alerts(request: Request) -> Response:
        if (denied := authorised(request)) is not None:
            return denied
        return JSONResponse({"alerts": [a.to_dict() for a in gateway.recent_alerts.alerts]})

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            Route("/reload", reload, methods=["POST"]),
            Route("/keys", list_keys, methods=["GET"]),
            Route("/keys", create_key, methods=["POST"]),
            Route("/keys/{key_id}", revoke_key, methods=["DELETE"]),
            Route("/revocations", list_revocations, methods=["GET"]),
            Route("/revocations", add_revocation, methods=["POST"]),
            Route("/revocations/{kind}/{value:path}", remove_revocation, methods=["DELETE"]),
            Route("/alerts", alerts),
        ]
    )


def _names(data: dict[str, Any], field: str) -> list[str]:
    value = data.get(field) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{field} must be a list of strings")
    return value


def _public(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "hash"}


def _error(
    status: int, reason: str, headers: dict[str, str] | None = None, *, detail: str | None = None
) -> Response:
    body: dict[str, Any] = {"error": reason}
    if detail:
        body["detail"] = detail
    return JSONResponse(body, status_code=status, headers=headers)
