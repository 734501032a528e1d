"""What the scan learned about the API's objects: who made them, who can list them.

Every JSON answer is harvested: objects with an id-like field become
:class:`Resource` s of a *kind* (``account`` for anything under ``/accounts``
or in an ``accounts`` array). Who sees an object in their own listings or
creations is its owner; an object two ordinary users both list is shared. The
pool then answers the questions the stateful checks ask: "a value for path
parameter ``id`` of ``GET /accounts/{id}`` that belongs to Bob", "accounts of
someone other than Alice". Producer -> consumer links are inferred from names:
the literal segment before a parameter, the parameter's name, body fields
named after a kind (``from_account``, ``account_id``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from apiward.core import Operation

__all__ = ["Resource", "ResourcePool", "kind_of_field", "kind_of_param", "singular"]

_ID_FIELDS = ("id", "uuid", "guid", "slug", "key", "username", "name", "email", "number")
_WRAPPERS = ("data", "items", "results", "content", "records", "rows", "entries", "list", "value")
_MAX_PER_KIND = 200
_MAX_DEPTH = 4


def singular(word: str) -> str:
    """``accounts`` -> ``account``, ``categories`` -> ``category``, ``addresses`` -> ``address``."""
    w = word.lower().replace("-", "_")
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("sses", "xes", "zes", "ches", "shes")):
        return w[:-2]
    if w.endswith("s") and not w.endswith(("ss", "us", "is")) and len(w) > 2:
        return w[:-1]
    return w


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def _is_param(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


def kind_of_param(op: Operation, name: str) -> str | None:
    """The kind of object a path parameter names: the literal segment before it."""
    segs = _segments(op.path)
    for i, seg in enumerate(segs):
        if seg == "{" + name + "}":
            before = next((s for s in reversed(segs[:i]) if not _is_param(s)), None)
            return singular(before) if before else _kind_from_name(name)
    return _kind_from_name(name)


def kind_of_path(path: str) -> str | None:
    """The kind of object a path is about: its last literal segment (``/users/me`` -> user)."""
    literals = [s for s in _segments(path) if not _is_param(s)]
    if not literals:
        return None
    last = literals[-1]
    if last in ("me", "self", "current", "mine") and len(literals) > 1:
        last = literals[-2]
    return singular(last)


def _kind_from_name(name: str) -> str | None:
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
    for suffix in ("_id", "_uuid", "_slug", "_key", "_number", "_name"):
        if snake.endswith(suffix) and len(snake) > len(suffix):
            return singular(snake[: -len(suffix)])
    return None


def kind_of_field(name: str, kinds: set[str]) -> str | None:
    """A body field that points at an object of a known kind: ``from_account``, ``accountId``."""
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
    direct = _kind_from_name(name)
    if direct in kinds:
        return direct
    words = snake.split("_")
    for word in reversed(words):
        if singular(word) in kinds and word not in ("id", "name"):
            return singular(word)
    return None


def id_field_for(name: str, kind: str | None) -> list[str]:
    """Object fields a parameter called ``name`` may take its value from, best first."""
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
    out = [name]
    if kind and snake in (f"{kind}_id", f"{kind}id"):
        out.append("id")
    for suffix in ("id", "uuid", "slug", "key", "number", "name"):
        if snake.endswith(suffix):
            out.append(suffix)
    if snake == "id":
        out.append("uuid")
    return list(dict.fromkeys(out))


@dataclass(slots=True)
class Resource:
    """One object of the API as the scan saw it."""

    kind: str
    fields: dict[str, Any]  # its scalar fields
    source: str  # the operation that revealed it
    owners: set[str] = field(default_factory=set)  # identities whose own listing/creation has it
    seen_by: set[str] = field(default_factory=set)

    @property
    def label(self) -> str:
        for name in _ID_FIELDS:
            if name in self.fields:
                return f"{self.kind} {name}={self.fields[name]}"
        return self.kind

    def identifier(self) -> tuple[str, Any] | None:
        for name in _ID_FIELDS:
            value = self.fields.get(name)
            if isinstance(value, int | str) and not isinstance(value, bool) and value != "":
                return name, value
        return None


class ResourcePool:
    """Resources by kind, deduplicated by their identifying field."""

    def __init__(self) -> None:
        self._by_kind: dict[str, dict[tuple[str, Any], Resource]] = {}
        self.admins: set[str] = set()

    @property
    def kinds(self) -> set[str]:
        return set(self._by_kind)

    def resources(self, kind: str) -> list[Resource]:
        return list(self._by_kind.get(kind, {}).values())

    def __iter__(self) -> Iterator[Resource]:
        for found in self._by_kind.values():
            yield from found.values()

    def harvest(self, op: Operation, identity: str, answer: Any, *, owned: bool) -> list[Resource]:
        """Record the objects in a JSON answer of ``op`` seen by ``identity``.

        ``owned``: the answer is the identity's own data (its listing, its creation,
        its ``/me``), so the identity becomes an owner of what it holds.
        """
        kind = kind_of_path(op.path)
        found: list[Resource] = []
        self._walk(answer, kind, op.key, identity, owned, found, 0)
        return found

    def _walk(
        self,
        node: Any,
        kind: str | None,
        source: str,
        identity: str,
        owned: bool,
        found: list[Resource],
        depth: int,
    ) -> None:
        if depth > _MAX_DEPTH:
            return
        if isinstance(node, list):
            for item in node[:_MAX_PER_KIND]:
                self._walk(item, kind, source, identity, owned, found, depth + 1)
            return
        if not isinstance(node, dict):
            return
        scalars = {k: v for k, v in node.items() if isinstance(v, str | int | float | bool | None)}
        if kind and any(k in scalars for k in _ID_FIELDS):
            res = self.add(kind, scalars, source, identity, owned)
            if res is not None:
                found.append(res)
        for key, value in node.items():
            if isinstance(value, dict | list):
                inner = kind if key.lower() in _WRAPPERS else singular(key)
                # nested objects are the parent's parts: seen, not owned on their own say-so
                self._walk(
                    value, inner, source, identity, owned and inner == kind, found, depth + 1
                )

    def add(
        self, kind: str, fields: dict[str, Any], source: str, identity: str, owned: bool
    ) -> Resource | None:
        """Record one object (merged with what is known of it); None when it has no id."""
        bucket = self._by_kind.setdefault(kind, {})
        probe = Resource(kind, fields, source)
        ident = probe.identifier()
        if ident is None:
            return None
        res = bucket.get(ident)
        if res is None:
            if len(bucket) >= _MAX_PER_KIND:
                return None
            res = bucket[ident] = probe
        else:
            res.fields.update(fields)
        res.seen_by.add(identity)
        if owned:
            res.owners.add(identity)
        return res

    def owner_view(self, kind: str, identity: str) -> list[Resource]:
        """Objects of ``kind`` that ``identity`` owns."""
        return [r for r in self.resources(kind) if identity in r.owners]

    def others(self, kind: str, identity: str) -> list[Resource]:
        """Objects of ``kind`` owned by ordinary users other than ``identity``, and not shared.

        Admins see everything, so their listings do not make an object shared. A kind
        of which two ordinary users list the same object is a shared catalogue (products,
        public posts): none of its objects count, since an object missing from a listing
        may only be on a page the crawl did not read.
        """
        if self.is_shared_kind(kind):
            return []
        out = []
        for res in self.resources(kind):
            owners = res.owners - self.admins
            if owners and identity not in owners and len(owners) == 1:
                out.append(res)
        return out

    def is_shared_kind(self, kind: str) -> bool:
        return any(len(r.owners - self.admins) > 1 for r in self.resources(kind))

    def value(self, res: Resource, param: str) -> Any:
        """The value of ``res`` to use for a parameter called ``param`` (None: no fit)."""
        for name in id_field_for(param, res.kind):
            value = res.fields.get(name)
            if isinstance(value, int | str) and not isinstance(value, bool) and value != "":
                return value
        return None
