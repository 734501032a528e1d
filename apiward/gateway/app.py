"""The reverse proxy as one ASGI app: every configured API behind its policies, reloadable.

``apiward gateway`` serves a :class:`Gateway` (see :mod:`apiward.gateway.server`)::

    gateway = Gateway(cfg.gateway, reload_from=lambda: load_config(path).gateway)
    # ASGI: lifespan startup -> gateway.start(); shutdown -> gateway.aclose()
    result = await gateway.reload()          # SIGHUP, a changed file, or POST /reload

Each API (``gateway.apis[]``) becomes ``GatewayMiddleware(UpstreamProxy(...), doc,
policies=...)``, its policies built from the registry (:data:`~apiward.gateway.chain.POLICIES`)
by their ``from_setup``. A request goes to the API whose base path (the spec's servers, or
``base-path``) and host match, the longest base path first; no API: 404, audited.

What lives across reloads (built once, at start): the audit log, the metrics, the alert
engine, the rate limiter (counters survive a reload), the revocation list. What a reload
rebuilds: every API (spec, policies, authenticators, upstream pools) and the key store
(re-read from its file).
A reload is atomic: the new APIs are built and started completely before one reference
is swapped; if anything fails, the running set stays and the error is returned. The old
set is closed after ``drain_timeout`` (requests in flight finish on it).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import socket
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from apiward.config.env import expand
from apiward.config.gateway import GatewaySection
from apiward.config.gateway_api import ApiSection, redact_url
from apiward.core import load
from apiward.core.router import server_base_paths
from apiward.errors import ApiwardError, ConfigError
from apiward.gateway import policies as _builtin  # noqa: F401 - registers the built-in policies
from apiward.gateway.alerts import AlertEngine, RecentAlerts, WebhookSink, build_rules
from apiward.gateway.auditlog import AuditLog, AuditRecord, SqliteStore
from apiward.gateway.auditlog_postgres import PostgresStore
from apiward.gateway.auth_keys import ApiKeyStore, load_key_file
from apiward.gateway.build_auth import build_authenticators
from apiward.gateway.chain import POLICIES, ApiSetup, Policy
from apiward.gateway.headers import IPNetwork, client_ip, host_name
from apiward.gateway.logs import access_log, get_logger
from apiward.gateway.metrics import GatewayMetrics
from apiward.gateway.middleware import GatewayMiddleware
from apiward.gateway.policies import RateRule
from apiward.gateway.policy import denial_response
from apiward.gateway.ratelimit import FailPolicy, Limit, Limiter, MemoryLimiter
from apiward.gateway.ratelimit_redis import RedisLimiter
from apiward.gateway.revocations import Revocations, RevocationStore
from apiward.gateway.revocations_store import FileRevocationStore, RedisRevocationStore
from apiward.gateway.upstream import UpstreamConfig, UpstreamProxy, UpstreamTLS
from apiward.gateway.upstream_health import HealthCheck

__all__ = ["ApiRuntime", "Gateway", "ReloadResult"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = get_logger("apiward.gateway")


@dataclass
class ApiRuntime:
    """One API as served now: its engine, upstream pool and what to close with it."""

    name: str
    section: ApiSection
    app: GatewayMiddleware
    proxy: UpstreamProxy
    base_paths: tuple[str, ...]
    hosts: frozenset[str]
    unconfigured_schemes: list[str]
    closers: list[Any] = field(default_factory=list)

    def serves(self, host: str, path: str) -> int:
        """The length of the matching base path (+1), or 0 when this API does not serve it."""
        if self.hosts and host not in self.hosts:
            return 0
        best = 0
        for base in self.base_paths:
            if path == base or path.startswith(base + "/") or not base:
                best = max(best, len(base) + 1)
        # on the same base path an API named for this host wins over one for any host
        return best * 2 + (1 if best and self.hosts else 0)

    async def start(self) -> None:
        await self.proxy.start()
        for closer in self.closers:
            prefetch = getattr(closer, "prefetch", None)
            if prefetch is not None:
                await prefetch()

    async def aclose(self) -> None:
        await self.proxy.aclose()
        for closer in self.closers:
            with contextlib.suppress(Exception):
                await closer.aclose()


@dataclass(frozen=True)
class ReloadResult:
    ok: bool
    generation: int
    message: str


class Gateway:
    """Every API of ``section``, served; see the module docstring."""

    def __init__(
        self,
        section: GatewaySection,
        *,
        reload_from: Callable[[], GatewaySection] | None = None,
    ) -> None:
        if not section.apis:
            raise ConfigError("no APIs to protect: add gateway.apis", key="gateway.apis")
        self.section = section
        self._reload_from = reload_from
        self.metrics = GatewayMetrics()
        self.limiter = _limiter(section)
        self.revocations = _revocations(section, self.limiter)
        self.audit = _audit_log(section)
        self.metrics.watch_audit_log(self.audit)
        self.recent_alerts = RecentAlerts()
        self.alerts = _alerts(section, self.recent_alerts, self.metrics)
        self.generation = 1
        self.keys: ApiKeyStore | None = _key_store(section)
        self.apis: tuple[ApiRuntime, ...] = self._build(section, self.keys)
        self.admin_token = _admin_token(section)
        self._started = False
        # held by a reload and by the admin API's key changes: neither may undo the other
        self.reload_lock = asyncio.Lock()
        self._retired: set[asyncio.Task[None]] = set()
        for api in self.apis:
            for scheme in api.unconfigured_schemes:
                log.warning("scheme_unconfigured", api=api.name, scheme=scheme)

    # -- building ---------------------------------------------------------------------

    def _build(self, section: GatewaySection, keys: ApiKeyStore | None) -> tuple[ApiRuntime, ...]:
        return tuple(self._build_api(section, i, keys) for i in range(len(section.apis)))

    def _build_api(
        self, section: GatewaySection, index: int, keys: ApiKeyStore | None
    ) -> ApiRuntime:
        api = section.apis[index]
        where = f"gateway.apis[{index}]"
        try:
            doc = load(api.spec)
        except ApiwardError as exc:
            raise ConfigError(f"cannot load the spec: {exc}", key=f"{where}.spec") from None
        auth = build_authenticators(doc, api, keys, where=where)
        rules = [
            RateRule(
                r.operations,
                Limit(r.requests, r.per, r.algorithm, r.burst),
                r.by,
                r.per_operation,
                f"{api.name}.{i}",
            )
            for i, r in enumerate(api.rate_limits)
        ]
        services = {
            "authenticators": auth.authenticators,
            "limiter": self.limiter,
            "rate_rules": rules,
            "revocations": self.revocations,
        }
        setup = ApiSetup(api.name, doc, api, services)
        chain: list[Policy] = []
        for cls in POLICIES:
            try:
                built = cls.from_setup(setup)
            except ConfigError as exc:
                raise ConfigError(str(exc), key=where) from None
            if built is not None:
                chain.append(built)
        try:
            proxy = UpstreamProxy(_upstream_config(api))
        except ConfigError as exc:
            # never echo a password
            raise ConfigError(redact_url(str(exc)), key=f"{where}.upstream") from None
        if api.base_path is not None:
            bases: list[str] = [api.base_path.rstrip("/")]
        else:
            servers = list(doc.servers) + [s for op in doc.operations for s in op.servers]
            bases = server_base_paths(servers) if servers else [""]
        observers = [
            _observer(self.metrics.observe, api.name),
            _observer(self.alerts.observe, api.name),
        ]
        if section.logs.access_log:
            observers.append(_observer(access_log, api.name))
        trusted = section.trusted_proxies
        app = GatewayMiddleware(
            _measured(proxy, self.metrics, api.name),
            doc,
            policies=chain,
            audit=self.audit,
            observers=observers,
            api=api.name,
            identity_headers=section.identity_headers,
            trusted_proxies=[_network(t) for t in trusted],
            forwarded_header=section.forwarded_header,
            passthrough=api.passthrough,
            base_paths=bases,
        )
        return ApiRuntime(
            api.name,
            api,
            app,
            proxy,
            tuple(bases),
            frozenset(host_name(h) or h.lower() for h in api.hosts),
            auth.unconfigured,
            auth.closers,
        )

    # -- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        """Start the audit writer, alert delivery, health checks and key prefetches."""
        if self._started:
            return
        self._started = True
        await self.revocations.start()
        await self.audit.start()
        await self.alerts.start()
        for api in self.apis:
            await api.start()
        log.info("gateway_started", apis=[a.name for a in self.apis], generation=self.generation)

    async def reload(self) -> ReloadResult:
        """Re-read the config and swap every API atomically; keep the old ones on error."""
        async with self.reload_lock:
            if self._reload_from is None:
                return ReloadResult(False, self.generation, "no config file to reload from")
            try:
                section = self._reload_from()
                _check_unchanged(self.section, section)
                keys = _key_store(section)
                apis = self._build(section, keys)
                for api in apis:
                    await api.start()
            except (ApiwardError, OSError) as exc:
                self.metrics.config_reloaded(ok=False, generation=self.generation)
                log.error("reload_failed", error=str(exc), generation=self.generation)
                return ReloadResult(False, self.generation, str(exc))
            old = self.apis
            self.apis, self.keys, self.section = apis, keys, section
            self.generation += 1
            self.metrics.config_reloaded(ok=True, generation=self.generation)
            log.info("reloaded", generation=self.generation, apis=[a.name for a in apis])
            task = asyncio.create_task(self._retire(old))
            self._retired.add(task)
            task.add_done_callback(self._retired.discard)
            return ReloadResult(True, self.generation, "reloaded")

    async def _retire(self, apis: tuple[ApiRuntime, ...]) -> None:
        await asyncio.sleep(self.section.drain_timeout)
        for api in apis:
            await api.aclose()

    async def aclose(self) -> None:
        """Close the APIs, then flush alerts and the audit log (after the server drained)."""
        for task in list(self._retired):
            task.cancel()
        for api in self.apis:
            await api.aclose()
        await self.alerts.aclose()
        await self.audit.aclose()
        await self.revocations.aclose()  # before the limiter: they may share its client
        aclose = getattr(self.limiter, "aclose", None)
        if aclose is not None:
            await aclose()
        log.info("gateway_stopped", audit_pending=self.audit.pending)

    def refresh_gauges(self) -> None:
        """Copy what is read rather than counted (upstream health) into the metrics."""
        for api in self.apis:
            for target, up in api.proxy.health().items():
                self.metrics.set_upstream_health(api.name, target, up)

    # -- ASGI -------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            return await self._lifespan(receive, send)
        if not self._started:  # a server without lifespan: start in its loop, on first use
            await self.start()
        host, path = _host(scope), scope.get("path", "")
        best, chosen = 0, None
        for api in self.apis:
            score = api.serves(host, path)
            if score > best:
                best, chosen = score, api
        if chosen is not None:
            return await chosen.app(scope, receive, send)
        if kind == "http":
            return await self._no_api(scope, send)
        await send({"type": "websocket.close", "code": 1008})

    async def _no_api(self, scope: Scope, send: Send) -> None:
        started = time.perf_counter_ns()
        headers, body = denial_response(404, "unknown_path")
        await send({"type": "http.response.start", "status": 404, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        peer = scope.get("client")
        trusted = [_network(t) for t in self.section.trusted_proxies]
        record = AuditRecord(
            request_id=f"{os.getpid():x}-{time.time_ns():x}",
            client_ip=client_ip(
                peer[0] if peer else "",
                list(scope.get("headers") or ()),
                trusted,
                header=self.section.forwarded_header,
            ),
            method=scope.get("method", ""),
            path=scope.get("path", "")[:2048],
            decision="deny",
            status=404,
            policy="routing",
            reason="no_api",
            latency_us=(time.perf_counter_ns() - started) // 1000,
            response_bytes=len(body),
        )
        self.metrics.observe("-", record)
        self.audit.log(record)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.start()
                except Exception as exc:  # e.g. a JWKS that cannot be fetched
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _measured(proxy: UpstreamProxy, metrics: GatewayMetrics, api: str) -> ASGIApp:
    """``proxy``, reporting which target answered and how fast to the metrics."""

    async def forward(scope: Scope, receive: Receive, send: Send) -> None:
        await proxy(scope, receive, send)
        info = (scope.get("extensions") or {}).get("apiward")
        if info and info.get("upstream"):
            metrics.observe_upstream(api, info["upstream"], info["upstream_latency_us"] / 1e6)

    return forward


def _observer(func: Callable[[str, AuditRecord], None], api: str) -> Callable[[AuditRecord], None]:
    def observe(record: AuditRecord) -> None:
        func(api, record)

    return observe


def _host(scope: Scope) -> str:
    """The request's host name without the port (``[::1]:80`` -> ``::1``), lower-case."""
    for name, value in scope.get("headers") or ():
        if name == b"host":
            return host_name(value) or ""
    return ""


def _network(text: str) -> IPNetwork:
    return ipaddress.ip_network(text, strict=False)


def _upstream_config(api: ApiSection) -> UpstreamConfig:
    u = api.upstream
    h = u.health
    return UpstreamConfig(
        api.name,
        u.targets,
        connect_timeout=u.connect_timeout,
        read_timeout=u.read_timeout,
        timeout=u.timeout,
        max_connections=u.max_connections,
        retries=u.retries,
        health=HealthCheck(
            h.path, h.interval, h.timeout, h.unhealthy_threshold, h.healthy_threshold
        ),
        tls=UpstreamTLS(u.verify, u.ca_file, u.client_cert, u.client_key),
        forwarded_hosts=frozenset(host_name(h) or h.lower() for h in api.hosts),
    )


def _limiter(section: GatewaySection) -> Limiter:
    r = section.redis
    fail = FailPolicy.CLOSED if r.on_error == "closed" else FailPolicy.OPEN
    if r.sentinels:
        nodes = [(h.rsplit(":", 1)[0], int(h.rsplit(":", 1)[1])) for h in r.sentinels]
        assert r.service is not None
        return RedisLimiter.sentinel(
            nodes, r.service, timeout=r.timeout, fail=fail, prefix=r.prefix
        )
    if r.url is None:
        return MemoryLimiter()
    url = expand(r.url, "gateway.redis.url")
    if r.cluster:
        return RedisLimiter.cluster(url, timeout=r.timeout, fail=fail, prefix=r.prefix)
    return RedisLimiter.from_url(url, timeout=r.timeout, fail=fail, prefix=r.prefix)


def _revocations(section: GatewaySection, limiter: Limiter) -> Revocations:
    r = section.revocations
    store: RevocationStore
    if isinstance(limiter, RedisLimiter):  # gateway.redis is set: share its connections
        store = RedisRevocationStore(
            limiter.client, prefix=section.redis.prefix, timeout=section.redis.timeout
        )
    else:
        store = FileRevocationStore(r.file)
    return Revocations(
        store, poll_interval=r.poll_interval, stale_after=r.stale_after, fail=r.on_error
    )


def _audit_log(section: GatewaySection) -> AuditLog:
    a = section.audit
    store: Any
    if a.store.startswith("sqlite:"):
        store = SqliteStore(a.store.removeprefix("sqlite:"))
    else:
        store = PostgresStore(expand(a.store, "gateway.audit.store"))
    chain = a.chain or _default_chain()
    return AuditLog(
        store, a.spool_dir, chain=chain, batch_size=a.batch_size, flush_interval=a.flush_interval
    )


def _default_chain() -> str:
    # stable across restarts, so that the next start replays what a crash left spooled
    name = "".join(c if c.isalnum() or c in "-." else "-" for c in socket.gethostname())
    return ("gw-" + name)[:64] or "gw"


def _alerts(section: GatewaySection, recent: RecentAlerts, metrics: GatewayMetrics) -> AlertEngine:
    a = section.alerts
    options: dict[str, dict[str, Any]] | None = None
    if a.rules:
        from apiward.gateway.alerts import ALERT_RULES

        build_rules(None)  # registers the built-in rules
        options = {name: {} for name in ALERT_RULES.names()}
        for name, rule in a.rules.items():
            if not rule.enabled:
                options.pop(name, None)
                continue
            options[name] = {
                k: v
                for k, v in (
                    ("threshold", rule.threshold),
                    ("window", rule.window),
                    ("cooldown", rule.cooldown),
                )
                if v is not None
            }
    try:
        rules = build_rules(options)
    except ConfigError as exc:
        raise ConfigError(str(exc), key="gateway.alerts.rules") from None
    sinks: list[Any] = [recent]
    if a.webhook is not None:
        w = a.webhook
        sinks.append(
            WebhookSink(
                expand(w.url, "gateway.alerts.webhook.url"),
                headers=expand(w.headers, "gateway.alerts.webhook.headers"),
                secret=expand(w.secret, "gateway.alerts.webhook.secret") if w.secret else None,
                on_result=metrics.alert_result,
            )
        )
    return AlertEngine(rules, sinks)


MIN_ADMIN_TOKEN = 16


def _admin_token(section: GatewaySection) -> str | None:
    """The admin token, expanded once: an empty or short one is a config error, not open."""
    token = section.admin.token
    if token is None:
        return None
    value = str(expand(token, "gateway.admin.token")).strip()
    if len(value) < MIN_ADMIN_TOKEN:
        raise ConfigError(
            f"the admin token must be at least {MIN_ADMIN_TOKEN} characters (it is {len(value)})",
            key="gateway.admin.token",
        )
    return value


def _key_store(section: GatewaySection) -> ApiKeyStore | None:
    k = section.keys
    if k.file is None:
        return None
    pepper = expand(k.pepper or "", "gateway.keys.pepper")
    records = load_key_file(k.file) if os.path.exists(k.file) else []
    return ApiKeyStore(pepper, records)


def _check_unchanged(running: GatewaySection, new: GatewaySection) -> None:
    """What a reload cannot change in place: the listeners and the shared backends."""
    for name in ("listen", "tls", "admin", "redis", "audit", "revocations", "identity_headers"):
        if getattr(running, name) != getattr(new, name):
            key = "gateway." + name.replace("_", "-")
            raise ConfigError(f"{key} changed: it takes a restart, not a reload", key=key)
