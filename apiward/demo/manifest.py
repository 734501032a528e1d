"""The demo's ground truth: every planted flaw, typed, from ``apiward/demo/manifest.yaml``.

A *runtime* entry is a live vulnerability of the vulnerable mode (absent in secure
mode) with the request that proves it; a *spec* entry is an audit-worthy flaw of
``openapi.yaml`` with the JSON pointer where it is written.
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from apiward.core import Owasp
from apiward.errors import ParseError, SpecError

Kind = Literal["runtime", "spec"]
Scope = Literal["operation", "global", "undocumented", "document"]
CATEGORIES = (*(o.name for o in Owasp), "injection")
_KINDS = ("runtime", "spec")
_SCOPES = ("operation", "global", "undocumented", "document")
_FILE = "manifest.yaml"


@dataclass(frozen=True, slots=True)
class ProofRequest:
    """The request that shows the flaw. ``identity`` names a seeded user, or is None."""

    method: str
    path: str
    identity: str | None = None
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


@dataclass(frozen=True, slots=True)
class Proof:
    """How to prove the flaw: in words, the request, and what each mode answers."""

    description: str
    request: ProofRequest | None = None
    vulnerable: str = ""
    secure: str = ""
    pointer: str | None = None  # spec entries: where in openapi.yaml


@dataclass(frozen=True, slots=True)
class Entry:
    """One planted flaw."""

    id: str
    category: str  # "API1".."API10" or "injection"
    kind: Kind
    scope: Scope
    operation: str | None  # "GET /accounts/{id}"; None for global/undocumented/document
    title: str
    description: str
    cwe: int
    proof: Proof
    also: tuple[str, ...] = ()  # further operations the same flaw affects
    rules: tuple[str, ...] = ()  # spec entries: the audit rule ids expected to report it
    checks: tuple[str, ...] = ()  # runtime entries: the scan check ids expected to find it

    @property
    def owasp(self) -> Owasp | None:
        """The OWASP API Top 10 2023 category, None for "injection"."""
        return Owasp[self.category] if self.category in Owasp.__members__ else None


@dataclass(frozen=True, slots=True)
class Credential:
    """A seeded user: log in with ``username`` and ``password``."""

    id: int
    username: str
    password: str
    role: str
    accounts: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Manifest:
    """The whole ground truth."""

    app: str
    users: tuple[Credential, ...]
    partner_api_key: str
    weak_jwt_secret: str
    meta_paths: tuple[str, ...]
    entries: tuple[Entry, ...]

    def entry(self, entry_id: str) -> Entry:
        for item in self.entries:
            if item.id == entry_id:
                return item
        raise KeyError(entry_id)

    def user(self, username: str) -> Credential:
        for item in self.users:
            if item.username == username:
                return item
        raise KeyError(username)

    @property
    def runtime(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.kind == "runtime")

    @property
    def spec(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.kind == "spec")

    def counts(self) -> dict[str, dict[str, int]]:
        """``{category: {"runtime": n, "spec": m}}`` in category order."""
        result = {c: {"runtime": 0, "spec": 0} for c in CATEGORIES}
        for item in self.entries:
            result[item.category][item.kind] += 1
        return result


def demo_file(name: str) -> str:
    """The path of a file shipped with the demo: ``openapi.yaml``, ``scan.yaml``, ..."""
    return str(importlib.resources.files("apiward.demo").joinpath(name))


def load_manifest() -> Manifest:
    """Read and check the packaged manifest."""
    resource = importlib.resources.files("apiward.demo").joinpath(_FILE)
    try:
        data = yaml.safe_load(resource.read_text("utf-8"))
    except yaml.YAMLError as exc:
        raise ParseError(f"invalid YAML: {exc}", file=_FILE) from None
    return parse_manifest(data, _FILE)


def parse_manifest(data: Any, uri: str = "<manifest>") -> Manifest:
    """Typed :class:`Manifest` from parsed YAML; a :class:`SpecError` names what is wrong."""
    top = _mapping(data, uri, "")
    creds = _mapping(top.get("credentials"), uri, "/credentials")
    users = tuple(
        Credential(
            int(u["id"]),
            str(u["username"]),
            str(u["password"]),
            str(u["role"]),
            tuple(int(a) for a in u.get("accounts", ())),
        )
        for u in _list(creds.get("users"), uri, "/credentials/users")
    )
    entries = tuple(
        _entry(_mapping(raw, uri, f"/entries/{i}"), uri, f"/entries/{i}")
        for i, raw in enumerate(_list(top.get("entries"), uri, "/entries"))
    )
    ids = [e.id for e in entries]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise SpecError(f"duplicate entry ids: {', '.join(duplicates)}", file=uri)
    return Manifest(
        app=str(top.get("app", "")),
        users=users,
        partner_api_key=str(creds.get("partner_api_key", "")),
        weak_jwt_secret=str(creds.get("weak_jwt_secret", "")),
        meta_paths=tuple(str(p) for p in top.get("meta_paths", ())),
        entries=entries,
    )


def _entry(raw: dict[str, Any], uri: str, pointer: str) -> Entry:
    def pick(name: str, choices: tuple[str, ...]) -> Any:
        value = raw.get(name)
        if value not in choices:
            raise SpecError(
                f"{name} must be one of {', '.join(choices)}", file=uri, pointer=pointer
            )
        return value

    proof = _mapping(raw.get("proof"), uri, f"{pointer}/proof")
    request = proof.get("request")
    try:
        return Entry(
            id=str(raw["id"]),
            category=pick("category", CATEGORIES),
            kind=pick("kind", _KINDS),
            scope=pick("scope", _SCOPES),
            operation=raw.get("operation"),
            title=str(raw["title"]),
            description=str(raw["description"]).strip(),
            cwe=int(raw["cwe"]),
            also=tuple(raw.get("also", ())),
            rules=tuple(str(r) for r in raw.get("rules", ())),
            checks=tuple(str(c) for c in raw.get("checks", ())),
            proof=Proof(
                description=str(proof["description"]).strip(),
                request=None if request is None else _request(request),
                vulnerable=str(proof.get("vulnerable", "")),
                secure=str(proof.get("secure", "")),
                pointer=proof.get("pointer"),
            ),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SpecError(f"malformed entry: {exc!r}", file=uri, pointer=pointer) from None


def _request(raw: dict[str, Any]) -> ProofRequest:
    return ProofRequest(
        method=str(raw["method"]).upper(),
        path=str(raw["path"]),
        identity=raw.get("identity"),
        query={str(k): str(v) for k, v in (raw.get("query") or {}).items()},
        headers={str(k): str(v) for k, v in (raw.get("headers") or {}).items()},
        body=raw.get("body"),
    )


def _mapping(value: Any, uri: str, pointer: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SpecError("expected a mapping", file=uri, pointer=pointer)
    return value


def _list(value: Any, uri: str, pointer: str) -> list[Any]:
    if not isinstance(value, list):
        raise SpecError("expected a list", file=uri, pointer=pointer)
    return value
