"""The ``gateway:`` section of ``apiward.yaml``: listeners, shared backends and the APIs.

Safe defaults: the listener and the admin API bind to 127.0.0.1; the admin API needs
a token; the audit log goes to SQLite next to the config file; rate limits and
revocations live in memory unless ``redis`` is set; every API is deny-by-default
(authentication per the spec, validation and response filtering on).
"""

from __future__ import annotations

import ipaddress
import os
import re
from typing import Annotated, Literal, TypeVar

from pydantic import AfterValidator, Field, field_validator, model_validator

from apiward.config.fields import Section
from apiward.config.gateway_api import ApiSection, Duration, redact_url

__all__ = [
    "AdminSection",
    "AlertRuleSection",
    "AlertsSection",
    "ApiSection",
    "AuditLogSection",
    "GatewaySection",
    "KeysSection",
    "LogsSection",
    "RedisSection",
    "TlsSection",
    "WebhookSection",
    "gateway_relative_to",
    "parse_listen",
]

M = TypeVar("M", bound=Section)
_LISTEN = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$")


def parse_listen(value: str) -> tuple[str, int]:
    """``"127.0.0.1:8080"``, ``"[::1]:8080"`` -> (host, port); ValueError otherwise."""
    m = _LISTEN.match(value.strip())
    if m is None or not 0 <= int(m.group(2)) <= 65535:
        raise ValueError(f"{value!r} is not host:port (e.g. 127.0.0.1:8080)")
    host = m.group(1).strip("[]")
    if host.replace(".", "").isdigit() or ":" in host:  # an IP literal: it must be one
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise ValueError(f"{value!r}: {host} is not an IP address") from None
    return host, int(m.group(2))


def _listen(value: str) -> str:
    parse_listen(value)
    return value.strip()


Listen = Annotated[str, AfterValidator(_listen)]


class TlsSection(Section):
    """TLS terminated at the gateway; with `client-ca`, mutual TLS."""

    cert: str = Field(description="Server certificate (PEM).")
    key: str = Field(description="Its private key (PEM).")
    client_ca: str | None = Field(default=None, description="CA that signs client certificates.")
    require_client_cert: bool = Field(
        default=False, description="Refuse the handshake without a valid client certificate."
    )


class AdminSection(Section):
    """The admin listener: /metrics, /healthz, reload, API keys. Protected by a token."""

    listen: Listen = Field(default="127.0.0.1:9090", description="host:port (keep it private).")
    token: str | None = Field(
        default=None,
        description="Bearer token for the admin API, at least 16 characters (use "
        "`${ENV_VAR}`); every endpoint but /healthz and /readyz needs it (/metrics too "
        "unless `open-metrics`). Without a token the admin API refuses all.",
    )
    open_metrics: bool = Field(default=False, description="Serve /metrics without the token.")


class RedisSection(Section):
    """Shared state for several gateways: rate limits, quotas, revocations."""

    url: str | None = Field(default=None, description="`redis://127.0.0.1:6379/0`")
    sentinels: list[str] = Field(default_factory=list, description="host:port of sentinels.")
    service: str | None = Field(default=None, description="Sentinel service name.")
    cluster: bool = Field(default=False, description="`url` names a Redis Cluster node.")
    timeout: Duration = Field(default=0.25, description="Seconds per call.")
    on_error: Literal["closed", "open"] = Field(
        default="closed", description="Redis unreachable: refuse (closed) or admit (open)."
    )
    prefix: str = Field(default="apiward", description="Key prefix.")

    @model_validator(mode="after")
    def _one_mode(self) -> RedisSection:
        if self.sentinels and not self.service:
            raise ValueError("sentinels need `service` (the monitored master's name)")
        if self.sentinels and self.cluster:
            raise ValueError("choose sentinels or cluster, not both")
        return self


class AuditLogSection(Section):
    """Where the hash-chained audit log goes (one record per request)."""

    store: str = Field(
        default="sqlite:apiward-audit.db",
        description="`sqlite:<file>` or `postgresql://...` (a libpq URL).",
    )
    spool_dir: str = Field(
        default=".apiward-audit-spool", description="Records wait here while the store is down."
    )
    batch_size: int = Field(default=500, ge=1)
    flush_interval: Duration = Field(default=0.5, description="Seconds between writes.")
    chain: str | None = Field(default=None, description="Chain id (default: host name + pid).")

    @field_validator("store")
    @classmethod
    def _store(cls, value: str) -> str:
        if not (value.startswith("sqlite:") or value.startswith(("postgresql://", "postgres://"))):
            raise ValueError(f"{redact_url(value)!r}: write sqlite:<file> or postgresql://...")
        return value


class LogsSection(Section):
    """Structured logs on stderr."""

    format: Literal["json", "console"] = "json"
    level: Literal["debug", "info", "warning", "error"] = "info"
    access_log: bool = Field(default=False, description="One log line per request.")


class KeysSection(Section):
    """API keys, stored hashed (HMAC-SHA256 with a pepper) in a key file."""

    file: str | None = Field(default=None, description="The key file (JSON) the admin API edits.")
    pepper: str | None = Field(
        default=None, description="Secret pepper for the hashes (use `${ENV_VAR}`)."
    )

    @model_validator(mode="after")
    def _pepper(self) -> KeysSection:
        if self.file is not None and not self.pepper:
            raise ValueError("a key file needs a `pepper` (e.g. ${APIWARD_KEY_PEPPER})")
        return self


class RevocationsSection(Section):
    """Revoked API keys, tokens (`jti`) and subjects, shared by every gateway.

    Kept in Redis when `gateway.redis` is set, else in `file`; each gateway polls the store.
    """

    file: str = Field(
        default=".apiward-revocations.json",
        description="The revocation list when there is no Redis (JSON, shared on one machine).",
    )
    poll_interval: Duration = Field(
        default=1.0, gt=0, description="How often each gateway checks the store for changes."
    )
    stale_after: Duration = Field(
        default=10.0,
        gt=0,
        description="The store unreadable this long: revocations made meanwhile are unknown.",
    )
    on_error: Literal["closed", "open"] = Field(
        default="closed",
        description="Stale: refuse authenticated requests (closed, 503) or admit them (open).",
    )

    @model_validator(mode="after")
    def _polled_in_time(self) -> RevocationsSection:
        # a poll must be able to miss once without every gateway going stale meanwhile
        if self.stale_after < 2 * self.poll_interval:
            raise ValueError(
                f"stale-after ({self.stale_after:g} s) must be at least twice "
                f"poll-interval ({self.poll_interval:g} s)"
            )
        return self


class WebhookSection(Section):
    """Where alerts are POSTed (JSON)."""

    url: str = Field(description="The webhook URL.")
    secret: str | None = Field(
        default=None, description="HMAC-SHA256 signs the body (X-Apiward-Signature)."
    )
    headers: dict[str, str] = Field(default_factory=dict)


class AlertRuleSection(Section):
    """One alert rule's thresholds."""

    enabled: bool = True
    threshold: int | None = Field(default=None, ge=1, description="Events that fire it.")
    window: Duration | None = Field(default=None, description="Seconds they must fall within.")
    cooldown: Duration | None = Field(default=None, description="Seconds before it fires again.")


class AlertsSection(Section):
    """Alert rules over the traffic, delivered to a webhook."""

    webhook: WebhookSection | None = None
    rules: dict[str, AlertRuleSection] = Field(
        default_factory=dict, description="Rule name -> thresholds (all rules on by default)."
    )


class GatewaySection(Section):
    """`apiward gateway`: the security gateway in front of one or more APIs."""

    listen: Listen = Field(default="127.0.0.1:8080", description="host:port to serve on.")
    tls: TlsSection | None = None
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="CIDRs of proxies whose X-Forwarded-For/Forwarded are believed.",
    )
    forwarded_header: Literal["x-forwarded-for", "forwarded"] = Field(
        default="x-forwarded-for",
        description="The header the trusted proxies write the client's address in "
        "(`forwarded` is RFC 7239's).",
    )
    identity_headers: tuple[str, str] = Field(
        default=("X-Apiward-User", "X-Apiward-Scopes"),
        description="Headers that tell the upstream who called (client copies removed).",
    )
    admin: AdminSection = Field(default_factory=AdminSection)
    redis: RedisSection = Field(default_factory=RedisSection)
    audit: AuditLogSection = Field(default_factory=AuditLogSection)
    logs: LogsSection = Field(default_factory=LogsSection)
    keys: KeysSection = Field(default_factory=KeysSection)
    revocations: RevocationsSection = Field(default_factory=RevocationsSection)
    alerts: AlertsSection = Field(default_factory=AlertsSection)
    drain_timeout: Duration = Field(default=10.0, description="Seconds to finish requests on stop.")
    client_header_timeout: Duration = Field(
        default=10.0,
        gt=0,
        description="A request's headers must arrive within this (else 408 and closed).",
    )
    client_body_timeout: Duration = Field(
        default=30.0,
        gt=0,
        description="The longest pause between two reads of a request body (else closed).",
    )
    apis: list[ApiSection] = Field(default_factory=list)

    @field_validator("trusted_proxies")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        for v in value:
            try:
                ipaddress.ip_network(v, strict=False)
            except ValueError:
                raise ValueError(f"{v!r} is not an IP address or CIDR range") from None
        return value

    @model_validator(mode="after")
    def _unique(self) -> GatewaySection:
        seen: set[str] = set()
        for api in self.apis:
            if api.name in seen:
                raise ValueError(f"two APIs are named {api.name!r}")
            seen.add(api.name)
        return self


def gateway_relative_to(section: GatewaySection, directory: str) -> GatewaySection:
    """``section`` with its file paths taken relative to ``directory`` (the config file's)."""
    if not directory:
        return section

    def at(path: str | None) -> str | None:
        if path is None or "://" in path or os.path.isabs(path):
            return path
        return os.path.join(directory, path)

    def files(model: M, *names: str) -> M:
        update = {n: at(getattr(model, n)) for n in names if getattr(model, n) is not None}
        return model.model_copy(update=update) if update else model

    apis = []
    for api in section.apis:
        upstream = files(api.upstream, "ca_file", "client_cert", "client_key")
        jwt = {
            name: j.model_copy(update={"keys": [files(k, "public_key_file") for k in j.keys]})
            for name, j in api.auth.jwt.items()
        }
        auth = api.auth.model_copy(update={"jwt": jwt})
        apis.append(
            api.model_copy(update={"spec": at(api.spec), "upstream": upstream, "auth": auth})
        )
    audit = section.audit
    store = audit.store
    if store.startswith("sqlite:"):
        store = "sqlite:" + str(at(store.removeprefix("sqlite:")))
    audit = audit.model_copy(update={"store": store, "spool_dir": at(audit.spool_dir)})
    return section.model_copy(
        update={
            "apis": apis,
            "audit": audit,
            "keys": files(section.keys, "file"),
            "revocations": files(section.revocations, "file"),
            "tls": files(section.tls, "cert", "key", "client_ca") if section.tls else None,
        }
    )
