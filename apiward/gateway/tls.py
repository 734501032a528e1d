"""TLS terminated at the gateway, client certificates (mTLS) and the ``mutualTLS`` scheme.

Serve with uvicorn like this::

    config = uvicorn.Config(
        app, http=TlsHttpToolsProtocol, loop="uvloop",
        **server_ssl_config("server.pem", "server.key", client_ca_file="clients-ca.pem",
                            require_client_cert=True),
    )

:func:`server_ssl_config` checks the files up front (a clear :class:`ConfigError`, not a
traceback at start-up) and sets TLS 1.2 as the minimum. :class:`TlsHttpToolsProtocol` is
uvicorn's httptools protocol that also puts the ASGI TLS extension
(https://asgi.readthedocs.io/en/latest/specs/tls.html) in every request's scope:
``scope["extensions"]["tls"]`` holds ``server_cert``, ``client_cert_chain``,
``client_cert_name``, ``client_cert_error``, ``tls_version``, ``cipher_suite`` and, as
apiward's addition, ``client_cert``: the parsed leaf certificate (:func:`client_cert_info`)
or ``None``. The certificate is read and parsed once per connection, not per request.

:class:`MutualTlsAuth` is the :class:`~apiward.gateway.auth_common.Authenticator` for an
OpenAPI ``type: mutualTLS`` security scheme: it reads ``AuthRequest.tls_client`` (the
extension above, which only the server can set, never a request header).
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import logging
import os
import ssl
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID
from uvicorn.config import Config

from apiward.errors import ConfigError
from apiward.gateway.auth_common import AuthRequest, InvalidCredentials, Principal
from apiward.gateway.protocol import GuardedHttpToolsProtocol

__all__ = [
    "IDENTITIES",
    "MutualTlsAuth",
    "TlsHttpToolsProtocol",
    "client_cert_info",
    "server_ssl_config",
    "tls_extension",
]

log = logging.getLogger(__name__)

_TLS_VERSIONS = {"TLSv1": 0x0301, "TLSv1.1": 0x0302, "TLSv1.2": 0x0303, "TLSv1.3": 0x0304}
_CIPHER_IDS: dict[str, int] = {}  # OpenSSL cipher name -> IANA code, filled as names are seen
IDENTITIES = ("cn", "subject", "san_dns", "san_email", "san_uri", "fingerprint")


# --- server configuration --------------------------------------------------------------------


def server_ssl_config(
    cert_file: str | os.PathLike[str],
    key_file: str | os.PathLike[str],
    client_ca_file: str | os.PathLike[str] | None = None,
    require_client_cert: bool = False,
) -> dict[str, Any]:
    """``uvicorn.Config`` keyword arguments for TLS, the files checked before the server starts.

    With ``client_ca_file`` clients are asked for a certificate signed by that CA; one that
    does not verify fails the handshake. ``require_client_cert`` also fails it when none
    is sent; without it a client may connect without one (and ``mutualTLS`` operations
    then deny it).
    """
    cert = _readable(cert_file, "cert_file")
    key = _readable(key_file, "key_file")
    ca = _readable(client_ca_file, "client_ca_file") if client_ca_file is not None else None
    if require_client_cert and ca is None:
        raise ConfigError(
            "requiring client certificates needs the CA that signs them", key="client_ca_file"
        )
    trial = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        trial.load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(
            f"{cert} and {key} are not a PEM certificate and its private key ({_why(exc)})",
            key="cert_file",
        ) from None
    if ca is not None:
        try:
            trial.load_verify_locations(cafile=ca)
        except (ssl.SSLError, OSError) as exc:
            raise ConfigError(
                f"{ca} holds no PEM CA certificate ({_why(exc)})", key="client_ca_file"
            ) from None
    if ca is None:
        reqs = ssl.CERT_NONE
    else:
        reqs = ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_OPTIONAL
    kwargs: dict[str, Any] = {
        "ssl_certfile": cert,
        "ssl_keyfile": key,
        "ssl_ca_certs": ca,
        "ssl_cert_reqs": reqs,
    }
    # uvicorn has no minimum-version option; its context factory hook (0.3x+) lets us set it.
    # Without the hook Python's own default for server contexts (3.10+) is TLS 1.2 anyway.
    if "ssl_context_factory" in inspect.signature(Config.__init__).parameters:
        kwargs["ssl_context_factory"] = _hardened_context
    return kwargs


def _hardened_context(config: Any, default: Any) -> ssl.SSLContext:
    # module-level, not a closure: uvicorn pickles its Config for worker processes
    context: ssl.SSLContext = default()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _readable(path: str | os.PathLike[str], key: str) -> str:
    p = Path(path)
    try:
        with p.open("rb") as f:
            f.read(1)
    except IsADirectoryError:
        raise ConfigError(f"{p} is a directory, not a PEM file", key=key) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {p}: {exc.strerror or exc}", key=key) from None
    return str(p)


def _why(exc: BaseException) -> str:
    return getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc)


# --- the ASGI TLS extension ------------------------------------------------------------------


def client_cert_info(der: bytes) -> Mapping[str, Any]:
    """A DER certificate as read-only data: names, serial, validity, SANs, SHA-256 fingerprint.

    Read-only because it is shared by every request on the connection: what one request's
    handler might do to it must not change who the next request is.
    """
    cert = x509.load_der_x509_certificate(der)
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        names = x509.SubjectAlternativeName([])
    san = {
        "dns": tuple(names.get_values_for_type(x509.DNSName)),
        "email": tuple(names.get_values_for_type(x509.RFC822Name)),
        "uri": tuple(names.get_values_for_type(x509.UniformResourceIdentifier)),
        "ip": tuple(str(ip) for ip in names.get_values_for_type(x509.IPAddress)),
    }
    info = {
        "subject": cert.subject.rfc4514_string(),
        # several CNs are ambiguous: none rather than a guess at which one identifies
        "subject_cn": str(cns[0].value) if len(cns) == 1 else None,
        "issuer": cert.issuer.rfc4514_string(),
        "serial": format(cert.serial_number, "x"),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "san": MappingProxyType(san),
        "fingerprint_sha256": hashlib.sha256(der).hexdigest(),
    }
    return MappingProxyType(info)


def tls_extension(ssl_object: Any, server_cert: str | None = None) -> dict[str, Any]:
    """The ``tls`` extension dict for one connection (``ssl.SSLObject`` or ``ssl.SSLSocket``).

    A certificate the handshake accepted but this cannot parse leaves ``client_cert``
    ``None`` and sets ``client_cert_error``, so :class:`MutualTlsAuth` denies.
    """
    ext: dict[str, Any] = {
        "server_cert": server_cert,
        "client_cert_chain": (),
        "client_cert_name": None,
        "client_cert_error": None,
        "tls_version": _TLS_VERSIONS.get(ssl_object.version() or ""),
        "cipher_suite": _cipher_suite(ssl_object),
        "client_cert": None,
    }
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        return ext
    ext["client_cert_chain"] = _chain(ssl_object, der)
    try:
        info = client_cert_info(der)
    except ValueError as exc:
        ext["client_cert_error"] = f"unparseable certificate: {exc}"
        return ext
    ext["client_cert_name"] = info["subject"]
    ext["client_cert"] = info
    return ext


def _chain(ssl_object: Any, leaf: bytes) -> tuple[str, ...]:
    # what the client sent is only exposed from Python 3.13 (get_unverified_chain)
    sent = getattr(ssl_object, "get_unverified_chain", None)
    certs = sent() if sent is not None else None
    if not certs or not all(isinstance(c, bytes) for c in certs) or certs[0] != leaf:
        certs = [leaf]  # an unknown shape: the leaf alone is still right
    return tuple(ssl.DER_cert_to_PEM_cert(c) for c in certs)


def _cipher_suite(ssl_object: Any) -> int | None:
    cipher = ssl_object.cipher()
    if not cipher:
        return None
    name = cipher[0]
    if name not in _CIPHER_IDS:
        context = getattr(ssl_object, "context", None)
        for c in context.get_ciphers() if context is not None else ():
            _CIPHER_IDS[c["name"]] = c["id"] & 0xFFFF  # OpenSSL prefixes the IANA code with 0x03
    return _CIPHER_IDS.get(name)


@lru_cache(maxsize=8)
def _server_cert_pem(path: str, mtime_ns: int) -> str | None:
    # mtime in the key: a certificate renewed in place is picked up by new connections
    text = Path(path).read_text("ascii", errors="replace")
    start = text.find("-----BEGIN CERTIFICATE-----")
    end_marker = "-----END CERTIFICATE-----"
    end = text.find(end_marker, start)
    return None if start < 0 or end < 0 else text[start : end + len(end_marker)] + "\n"


def _server_cert(config: Config) -> str | None:
    path = getattr(config, "ssl_certfile", None)
    if not path:
        return None
    try:
        return _server_cert_pem(str(path), os.stat(path).st_mtime_ns)
    except OSError:
        return None


class TlsHttpToolsProtocol(GuardedHttpToolsProtocol):
    """uvicorn's httptools protocol (with the client timeouts of :mod:`.protocol`), plus
    ``scope["extensions"]["tls"]`` on TLS connections.

    Relies on two points of ``HttpToolsProtocol`` (read in uvicorn 0.54.0's
    ``protocols/http/httptools_impl.py``): ``connection_made(transport)`` runs after the
    handshake, and ``on_message_begin()`` builds ``self.scope`` for each request. Should
    either change, requests go on without the extension, which ``mutualTLS`` reads as
    "no certificate": it denies.
    """

    _tls: dict[str, Any] | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is None:
            return  # plain HTTP: the spec forbids the extension here
        try:
            self._tls = tls_extension(ssl_object, _server_cert(self.config))
        except Exception as exc:  # never drop the connection over this: mutualTLS denies
            log.warning("reading the TLS session failed: %s", exc)
            self._tls = {
                "client_cert_chain": (),
                "client_cert": None,
                "client_cert_error": f"internal: {type(exc).__name__}",
            }

    def on_message_begin(self) -> None:
        super().on_message_begin()
        tls = self._tls
        scope: Any = getattr(self, "scope", None)
        if tls is None or not isinstance(scope, dict):
            return
        # a fresh dict per request: what one request's handler does to it stays there
        extensions = scope.get("extensions")
        if isinstance(extensions, dict):
            extensions["tls"] = dict(tls)
        else:
            scope["extensions"] = {"tls": dict(tls)}


# --- the mutualTLS security scheme -----------------------------------------------------------


class MutualTlsAuth:
    """Clients identified by the certificate the TLS handshake verified (``type: mutualTLS``).

    ``identity`` picks the principal's subject: ``cn`` (the one Common Name), ``subject``
    (the whole RFC 4514 DN), the first ``san_dns``/``san_email``/``san_uri``, or
    ``fingerprint`` (SHA-256, hex). ``roles`` maps a subject (as ``identity`` gives it) or
    a fingerprint written ``sha256:<hex>`` (colons allowed) to role names; both apply.
    """

    def __init__(
        self,
        *,
        identity: str = "cn",
        roles: Mapping[str, Iterable[str]] | None = None,
        scheme: str = "mutualTLS",
    ) -> None:
        if identity not in IDENTITIES:
            raise ConfigError(f"{identity!r} is not one of {', '.join(IDENTITIES)}", key="identity")
        self.identity = identity
        self.scheme = scheme
        self._by_subject: dict[str, frozenset[str]] = {}
        self._by_fingerprint: dict[str, frozenset[str]] = {}
        for key, names in (roles or {}).items():
            if isinstance(names, str):
                raise ConfigError(f"the roles of {key!r} must be a list", key="roles")
            if key.lower().startswith("sha256:"):
                digest = key[7:].replace(":", "").strip().lower()
                if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
                    raise ConfigError(f"{key!r} is not a SHA-256 fingerprint", key="roles")
                self._by_fingerprint[digest] = frozenset(names)
            else:
                self._by_subject[key] = frozenset(names)

    async def authenticate(self, request: AuthRequest) -> Principal | None:
        tls = request.tls_client
        if not tls:
            return None  # not TLS, or TLS terminated in front of us: no certificate to see
        error = tls.get("client_cert_error")
        if error:
            raise InvalidCredentials(
                "certificate_error", f"the client certificate is unusable: {error}"
            )
        cert = tls.get("client_cert")
        if not isinstance(cert, Mapping):
            if tls.get("client_cert_chain"):  # sent but not parsed for us: do not guess
                raise InvalidCredentials("certificate_error", "the client certificate is unusable")
            return None
        try:
            expired = datetime.fromisoformat(cert["not_after"]) < datetime.now(UTC)
        except (KeyError, TypeError, ValueError):
            expired = True
        if expired:
            # a keep-alive connection can outlive the certificate the handshake accepted
            raise InvalidCredentials("expired", "the client certificate has expired")
        subject = self._subject(cert)
        if not subject:
            raise InvalidCredentials(
                "no_identity", f"the client certificate has no {self.identity} to identify by"
            )
        fingerprint = str(cert.get("fingerprint_sha256", ""))
        roles = self._by_subject.get(subject, frozenset()) | self._by_fingerprint.get(
            fingerprint, frozenset()
        )
        return Principal(subject, frozenset(), roles, dict(cert), self.scheme)

    def _subject(self, cert: Mapping[str, Any]) -> str | None:
        which = self.identity
        if which == "cn":
            value = cert.get("subject_cn")
        elif which == "subject":
            value = cert.get("subject")
        elif which == "fingerprint":
            value = cert.get("fingerprint_sha256")
        else:
            found = (cert.get("san") or {}).get(which[4:]) or ()
            value = found[0] if found else None
        return value if isinstance(value, str) and value else None
