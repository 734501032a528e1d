"""TLS at the gateway: uvicorn config, the client certificate in the scope, mutualTLS auth."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from apiward.errors import ConfigError
from apiward.gateway.auth_common import AuthRequest, InvalidCredentials, Principal
from apiward.gateway.tls import (
    MutualTlsAuth,
    TlsHttpToolsProtocol,
    client_cert_info,
    server_ssl_config,
)

NOW = dt.datetime.now(dt.UTC)

# --- a throwaway PKI -------------------------------------------------------------------------


@dataclass
class Issued:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    cert_file: Path
    key_file: Path

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)


def _name(*attrs: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in attrs])


def issue(
    directory: Path,
    stem: str,
    subject: x509.Name,
    *,
    ca: Issued | None = None,
    is_ca: bool = False,
    san: list[x509.GeneralName] | None = None,
    client: bool = False,
    not_after: dt.datetime | None = None,
) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    issuer_name = ca.cert.subject if ca else subject
    signing_key = ca.key if ca else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(minutes=5))
        .not_valid_after(not_after or NOW + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
    )
    if is_ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
    else:
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    cert = builder.sign(signing_key, hashes.SHA256())
    cert_file = directory / f"{stem}.pem"
    key_file = directory / f"{stem}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Issued(cert, key, cert_file, key_file)


@dataclass
class Pki:
    ca: Issued
    server: Issued
    alice: Issued
    rogue: Issued  # a client certificate from a CA the server does not trust


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    d = tmp_path_factory.mktemp("pki")
    ca = issue(d, "ca", _name((NameOID.COMMON_NAME, "apiward test CA")), is_ca=True)
    server = issue(
        d,
        "server",
        _name((NameOID.COMMON_NAME, "localhost")),
        ca=ca,
        san=[
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ],
    )
    alice = issue(
        d,
        "alice",
        _name((NameOID.ORGANIZATION_NAME, "Example"), (NameOID.COMMON_NAME, "alice")),
        ca=ca,
        client=True,
        san=[
            x509.RFC822Name("alice@example.com"),
            x509.DNSName("alice.clients.example.com"),
            x509.UniformResourceIdentifier("spiffe://example.com/alice"),
        ],
    )
    other_ca = issue(d, "other-ca", _name((NameOID.COMMON_NAME, "someone else")), is_ca=True)
    rogue = issue(d, "rogue", _name((NameOID.COMMON_NAME, "alice")), ca=other_ca, client=True)
    return Pki(ca, server, alice, rogue)


# --- a TLS server with the protocol under test -----------------------------------------------

CALLS: list[dict[str, Any]] = []
AUTH = MutualTlsAuth(roles={"alice": ["reader"]})


async def echo_tls(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers with what the scope says about TLS and what MutualTlsAuth makes of it."""
    assert scope["type"] == "http"
    tls = scope.get("extensions", {}).get("tls")
    CALLS.append(scope)
    try:
        principal = await AUTH.authenticate(AuthRequest.from_scope(scope))
        who: Any = None if principal is None else [principal.subject, sorted(principal.roles)]
    except InvalidCredentials as exc:
        who = f"refused: {exc.reason}"
    body = json.dumps({"tls": tls, "principal": who}, default=_plain).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _plain(value: Any) -> Any:
    return dict(value) if isinstance(value, Mapping) else list(value)


@contextlib.contextmanager
def serve_tls(loop: str = "uvloop", **kwargs: Any) -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    config = uvicorn.Config(
        echo_tls,
        http=TlsHttpToolsProtocol,
        loop=loop,
        lifespan="off",
        log_level="critical",
        **kwargs,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.01)
        scheme = "https" if kwargs.get("ssl_certfile") else "http"
        yield f"{scheme}://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()


def client_context(pki: Pki, cert: Issued | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(pki.ca.cert_file))
    if cert is not None:
        ctx.load_cert_chain(str(cert.cert_file), str(cert.key_file))
    return ctx


def get(url: str, ctx: ssl.SSLContext | None = None) -> dict[str, Any]:
    with httpx.Client(verify=ctx if ctx is not None else True, timeout=5) as client:
        response = client.get(url + "/whoami")
        assert response.status_code == 200
        result: dict[str, Any] = response.json()
        return result


# --- end to end --------------------------------------------------------------------------------


@pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
def test_client_certificate_reaches_the_scope_and_authenticates(pki: Pki, loop: str) -> None:
    ssl_kw = server_ssl_config(pki.server.cert_file, pki.server.key_file, pki.ca.cert_file, True)
    with serve_tls(loop, **ssl_kw) as url:
        first = get(url, client_context(pki, pki.alice))
    tls = first["tls"]
    cert = tls["client_cert"]
    assert cert["subject_cn"] == "alice"
    assert cert["subject"] == "CN=alice,O=Example"
    assert cert["issuer"] == "CN=apiward test CA"
    assert cert["san"]["email"] == ["alice@example.com"]
    assert cert["san"]["uri"] == ["spiffe://example.com/alice"]
    assert cert["fingerprint_sha256"] == client_cert_info(pki.alice.der)["fingerprint_sha256"]
    assert cert["serial"] == format(pki.alice.cert.serial_number, "x")
    # the ASGI TLS extension's own keys
    assert tls["client_cert_name"] == "CN=alice,O=Example"
    assert len(tls["client_cert_chain"]) == 1
    assert ssl.PEM_cert_to_DER_cert(tls["client_cert_chain"][0]) == pki.alice.der
    assert tls["client_cert_error"] is None
    assert tls["tls_version"] in (0x0303, 0x0304)
    assert isinstance(tls["cipher_suite"], int) and 0 < tls["cipher_suite"] <= 0xFFFF
    assert tls["server_cert"].startswith("-----BEGIN CERTIFICATE-----")
    assert first["principal"] == ["alice", ["reader"]]


def test_each_request_on_a_connection_gets_its_own_extension_dict(pki: Pki) -> None:
    ssl_kw = server_ssl_config(pki.server.cert_file, pki.server.key_file, pki.ca.cert_file, True)
    CALLS.clear()
    with (
        serve_tls(**ssl_kw) as url,
        httpx.Client(verify=client_context(pki, pki.alice), timeout=5) as c,
    ):
        assert c.get(url + "/a").status_code == 200
        assert c.get(url + "/b").status_code == 200
    assert len(CALLS) == 2
    first, second = (s["extensions"]["tls"] for s in CALLS)
    assert first == second and first is not second
    with pytest.raises(TypeError):  # shared by the connection's requests, so read-only
        first["client_cert"]["subject_cn"] = "admin"


def test_no_client_certificate_fails_the_handshake_when_required(pki: Pki) -> None:
    ssl_kw = server_ssl_config(pki.server.cert_file, pki.server.key_file, pki.ca.cert_file, True)
    CALLS.clear()
    with serve_tls(**ssl_kw) as url, pytest.raises(httpx.TransportError):
        get(url, client_context(pki, None))
    assert CALLS == []


def test_a_certificate_from_another_ca_fails_the_handshake_even_when_optional(pki: Pki) -> None:
    ssl_kw = server_ssl_config(pki.server.cert_file, pki.server.key_file, pki.ca.cert_file, False)
    CALLS.clear()
    with serve_tls(**ssl_kw) as url, pytest.raises(httpx.TransportError):
        get(url, client_context(pki, pki.rogue))
    assert CALLS == []


def test_optional_client_certificate_absent_means_no_principal(pki: Pki) -> None:
    ssl_kw = server_ssl_config(pki.server.cert_file, pki.server.key_file, pki.ca.cert_file, False)
    with serve_tls(**ssl_kw) as url:
        anonymous = get(url, client_context(pki, None))
        alice = get(url, client_context(pki, pki.alice))
    assert anonymous["tls"]["client_cert"] is None
    assert anonymous["tls"]["client_cert_chain"] == []
    assert anonymous["tls"]["client_cert_name"] is None
    assert anonymous["principal"] is None
    assert alice["principal"] == ["alice", ["reader"]]


def test_plain_http_has_no_tls_extension() -> None:
    with serve_tls() as url:
        answer = get(url)
    assert answer == {"tls": None, "principal": None}


# --- server_ssl_config -------------------------------------------------------------------------


def test_ssl_config_requires_and_verifies_client_certs(pki: Pki) -> None:
    kw = server_ssl_config(pki.server.cert_file, pki.server.key_file, pki.ca.cert_file, True)
    assert kw["ssl_cert_reqs"] == ssl.CERT_REQUIRED
    assert kw["ssl_ca_certs"] == str(pki.ca.cert_file)
    config = uvicorn.Config(echo_tls, http=TlsHttpToolsProtocol, **kw)
    config.load()
    assert config.ssl is not None
    assert config.ssl.minimum_version == ssl.TLSVersion.TLSv1_2
    assert config.ssl.verify_mode == ssl.CERT_REQUIRED


def test_ssl_config_modes(pki: Pki) -> None:
    optional = server_ssl_config(pki.server.cert_file, pki.server.key_file, pki.ca.cert_file)
    assert optional["ssl_cert_reqs"] == ssl.CERT_OPTIONAL
    plain = server_ssl_config(pki.server.cert_file, pki.server.key_file)
    assert plain["ssl_cert_reqs"] == ssl.CERT_NONE and plain["ssl_ca_certs"] is None


def test_ssl_config_refuses_missing_and_unusable_files(pki: Pki, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cert_file: cannot read .*nope.pem"):
        server_ssl_config(tmp_path / "nope.pem", pki.server.key_file)
    with pytest.raises(ConfigError, match=r"key_file: .* is a directory"):
        server_ssl_config(pki.server.cert_file, tmp_path)
    with pytest.raises(ConfigError, match="client_ca_file: cannot read"):
        server_ssl_config(pki.server.cert_file, pki.server.key_file, tmp_path / "ca.pem")
    with pytest.raises(ConfigError, match="not a PEM certificate and its private key"):
        server_ssl_config(pki.server.cert_file, pki.alice.key_file)  # someone else's key
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not PEM at all")
    with pytest.raises(ConfigError, match="cert_file"):
        server_ssl_config(garbage, pki.server.key_file)
    with pytest.raises(ConfigError, match=r"client_ca_file: .* holds no PEM CA certificate"):
        server_ssl_config(pki.server.cert_file, pki.server.key_file, garbage)
    with pytest.raises(ConfigError, match="client_ca_file: requiring client certificates"):
        server_ssl_config(pki.server.cert_file, pki.server.key_file, require_client_cert=True)


# --- MutualTlsAuth -----------------------------------------------------------------------------


def authenticate(auth: MutualTlsAuth, tls: dict[str, Any] | None) -> Principal | None:
    return asyncio.run(auth.authenticate(AuthRequest([], tls_client=tls)))


def ext(issued: Issued) -> dict[str, Any]:
    return {"client_cert": client_cert_info(issued.der), "client_cert_error": None}


@pytest.mark.parametrize(
    ("identity", "subject"),
    [
        ("cn", "alice"),
        ("subject", "CN=alice,O=Example"),
        ("san_email", "alice@example.com"),
        ("san_dns", "alice.clients.example.com"),
        ("san_uri", "spiffe://example.com/alice"),
    ],
)
def test_identity_field_is_configurable(pki: Pki, identity: str, subject: str) -> None:
    principal = authenticate(MutualTlsAuth(identity=identity), ext(pki.alice))
    assert principal is not None
    assert principal.subject == subject
    assert principal.scheme == "mutualTLS"
    assert principal.claims["issuer"] == "CN=apiward test CA"


def test_roles_by_subject_and_by_fingerprint(pki: Pki) -> None:
    fp = client_cert_info(pki.alice.der)["fingerprint_sha256"]
    colons = ":".join(fp[i : i + 2] for i in range(0, 64, 2)).upper()
    auth = MutualTlsAuth(roles={"alice": ["reader"], f"sha256:{colons}": ["admin"], "bob": ["x"]})
    principal = authenticate(auth, ext(pki.alice))
    assert principal is not None and principal.roles == {"reader", "admin"}
    by_fp = authenticate(MutualTlsAuth(identity="fingerprint"), ext(pki.alice))
    assert by_fp is not None and by_fp.subject == fp and by_fp.roles == frozenset()


def test_no_tls_or_no_certificate_is_no_credential(pki: Pki) -> None:
    auth = MutualTlsAuth()
    assert authenticate(auth, None) is None
    assert authenticate(auth, {"client_cert": None, "client_cert_chain": ()}) is None


def test_unusable_certificates_are_refused(pki: Pki, tmp_path: Path) -> None:
    auth = MutualTlsAuth()
    with pytest.raises(InvalidCredentials) as caught:
        authenticate(auth, {"client_cert": None, "client_cert_error": "unparseable certificate"})
    assert caught.value.reason == "certificate_error"
    chain_only = {"client_cert": None, "client_cert_chain": ("-----BEGIN CERTIFICATE-----",)}
    with pytest.raises(InvalidCredentials, match="unusable"):
        authenticate(auth, chain_only)
    # a certificate without a CN cannot be identified by its CN
    nameless = issue(tmp_path, "n", _name((NameOID.ORGANIZATION_NAME, "X")), ca=pki.ca, client=True)
    with pytest.raises(InvalidCredentials) as caught:
        authenticate(auth, ext(nameless))
    assert caught.value.reason == "no_identity"
    with pytest.raises(InvalidCredentials):
        authenticate(MutualTlsAuth(identity="san_email"), ext(nameless))


def test_expired_certificate_is_refused(pki: Pki, tmp_path: Path) -> None:
    old = issue(
        tmp_path,
        "old",
        _name((NameOID.COMMON_NAME, "alice")),
        ca=pki.ca,
        client=True,
        not_after=NOW - dt.timedelta(seconds=1),
    )
    with pytest.raises(InvalidCredentials) as caught:
        authenticate(MutualTlsAuth(), ext(old))
    assert caught.value.reason == "expired"


def test_several_common_names_are_not_guessed_at(pki: Pki, tmp_path: Path) -> None:
    two = issue(
        tmp_path,
        "two",
        _name((NameOID.COMMON_NAME, "alice"), (NameOID.COMMON_NAME, "admin")),
        ca=pki.ca,
        client=True,
    )
    assert client_cert_info(two.der)["subject_cn"] is None
    with pytest.raises(InvalidCredentials):
        authenticate(MutualTlsAuth(), ext(two))


def test_bad_configuration_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="identity"):
        MutualTlsAuth(identity="email")
    with pytest.raises(ConfigError, match="SHA-256"):
        MutualTlsAuth(roles={"sha256:abcd": ["admin"]})
    with pytest.raises(ConfigError, match="must be a list"):
        MutualTlsAuth(roles={"alice": "admin"})


def test_from_scope_reads_the_tls_extension_only() -> None:
    scope = {
        "headers": [(b"x-client-cert", b"CN=admin")],
        "extensions": {"tls": {"client_cert": None}},
    }
    assert AuthRequest.from_scope(scope).tls_client == {"client_cert": None}
    assert AuthRequest.from_scope({"headers": []}).tls_client is None
