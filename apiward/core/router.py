"""Concrete request -> spec operation, fast enough for a gateway's hot path.

What the router expects and returns (the gateway owns policy, the router does not guess):

* ``path`` is the request target as received, canonicalised by the caller: the
  router only drops a query string (from the first ``?``) and splits on ``/``.
  It does not percent-decode, collapse ``//``, resolve dot segments nor touch
  case. Literal segments are compared with the template exactly as the spec
  writes them, so the caller must canonicalise into that same form.
* Path parameters come back raw, still percent-encoded (``%2F`` stays ``%2F``
  and so never crosses a segment). Decoding is the caller's decision.
* Trailing slashes are strict: ``/users/`` does not match ``/users``.
* Methods are case-insensitive on input. ``HEAD`` matches a ``head`` operation
  when one fits the path, else falls back to the ``get`` operation (the
  returned ``operation.method`` says which), as HTTP servers answer HEAD with GET.
* Precedence is OpenAPI's "concrete before templated", decided per method (a
  ``POST /users/me`` does not hide ``GET /users/{id}`` from ``GET /users/me``),
  segment by segment from the left, with backtracking: at each segment an exact
  literal is tried first, then partial templates (``{name}.json``, most literal
  characters first), then a whole-segment parameter. A parameter never matches
  an empty string nor crosses ``/``; with several in one segment (``{a}-{b}``)
  each but the last takes the shortest value that lets the rest match.
* Two templates with the same shape and method (``/a/{x}`` and ``/a/{y}``, both
  GET) are ambiguous in OpenAPI; the first one in document order wins.

How it is fast: fully literal templates sit in one dict per method (one lookup);
the others in a segment trie per method and segment count, so a request only
walks templates of its own depth, with dict lookups for literals and a
linear-time scan (no regex, so no backtracking blow-up) only for partial
segments. The first branch of the search is walked in a loop; the recursive
search runs only when that branch dead-ends after passing an alternative.
Matching cost grows with the number of templates that share the request's
prefix and depth, not with the size of the spec.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass

from apiward.core.model import Operation, Server
from apiward.errors import ConfigError

__all__ = ["Match", "Router", "server_base_paths"]

_PARAM = re.compile(r"\{([^{}/]*)\}")
_Leaf = tuple[Operation, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Match:
    """The operation a request maps to, with its path parameters (raw, percent-encoded)."""

    operation: Operation
    path_params: dict[str, str]


# A frozen dataclass's __init__ costs ~2.5x plain slot stores, a third of a whole
# match; the hot path fills the slots directly (still immutable to users).
_new_match = Match.__new__
_set_operation = vars(Match)["operation"].__set__
_set_params = vars(Match)["path_params"].__set__


class _Pattern:
    """A segment with literals around its parameters (``{name}.json``, ``v{v}``, ``{a}-{b}``).

    Matched in linear time: each literal is placed at its leftmost occurrence that
    leaves every parameter at least one character, the last literal anchored at the
    end. For such wildcard-only patterns leftmost placement finds a match whenever
    one exists, and gives the values a lazy regex would, without the regex's
    polynomial backtracking on hostile input (``{a}-{b}-{c}`` against 4 kB of
    dashes took minutes with ``re``).
    """

    __slots__ = ("inner", "prefix", "shortest", "suffix")

    def __init__(self, literals: tuple[str, ...]) -> None:
        self.prefix, self.inner, self.suffix = literals[0], literals[1:-1], literals[-1]
        self.shortest = sum(map(len, literals)) + len(literals) - 1

    def match(self, seg: str) -> list[str] | None:
        """The parameter values in order, or None."""
        if len(seg) < self.shortest or not seg.startswith(self.prefix):
            return None
        end = len(seg) - len(self.suffix)
        if not seg.endswith(self.suffix):
            return None
        pos, values = len(self.prefix), []
        for lit in self.inner:
            # the literal must leave one character before it and one for the last param
            at = seg.find(lit, pos + 1, end - 1)
            if at < 0:
                return None
            values.append(seg[pos:at])
            pos = at + len(lit)
        values.append(seg[pos:end])
        return values


class _Node:
    """One segment position of the templates sharing a prefix (for one method and depth)."""

    __slots__ = ("alt", "leaf", "literals", "param", "patterns", "shapes")

    def __init__(self) -> None:
        self.literals: dict[str, _Node] = {}
        self.shapes: dict[tuple[str, ...], _Node] = {}
        self.patterns: tuple[tuple[_Pattern, _Node], ...] = ()
        self.param: _Node | None = None
        self.leaf: _Leaf | None = None
        self.alt = False  # something besides literals: a literal hit may need backtracking

    def child(self, segment: str, names: list[str]) -> _Node:
        """The child for a template segment, appending its parameter names to ``names``."""
        pieces = _PARAM.split(segment)
        if len(pieces) == 1:
            return self.literals.setdefault(segment, _Node())
        names.extend(pieces[1::2])
        if len(pieces) == 3 and not pieces[0] and not pieces[2]:
            if self.param is None:
                self.param = _Node()
            return self.param
        # the literals key the node: {a}.json and {b}.json share it
        return self.shapes.setdefault(tuple(pieces[0::2]), _Node())

    def freeze(self) -> None:
        """Order partial patterns, most literal characters first, then fewest params."""
        ordered = sorted(self.shapes, key=lambda lits: (-sum(map(len, lits)), len(lits), lits))
        self.patterns = tuple((_Pattern(lits), self.shapes[lits]) for lits in ordered)
        self.alt = bool(self.patterns) or self.param is not None
        for node in (*self.literals.values(), *self.shapes.values()):
            node.freeze()
        if self.param is not None:
            self.param.freeze()


def _first_pattern(node: _Node, seg: str, values: list[str]) -> _Node | None:
    """The child of the first partial pattern matching ``seg``; its values go to ``values``."""
    for pattern, sub in node.patterns:
        found = pattern.match(seg)
        if found is not None:
            values.extend(found)
            return sub
    return None


def _walk(node: _Node, segs: list[str], i: int, values: list[str]) -> _Leaf | None:
    """Depth-first search, literal branch first; ``values`` collects params in order."""
    if i == len(segs):
        return node.leaf
    seg = segs[i]
    child = node.literals.get(seg)
    if child is not None:
        found = _walk(child, segs, i + 1, values)
        if found is not None:
            return found
    if not seg:  # parameters never match an empty segment
        return None
    for pattern, sub in node.patterns:
        found_values = pattern.match(seg)
        if found_values is not None:
            mark = len(values)
            values.extend(found_values)
            found = _walk(sub, segs, i + 1, values)
            if found is not None:
                return found
            del values[mark:]
    if node.param is not None:
        values.append(seg)
        found = _walk(node.param, segs, i + 1, values)
        if found is not None:
            return found
        values.pop()
    return None


class _Table:
    """One method's templates: fully literal ones by path, the others in a trie per depth."""

    __slots__ = ("exact", "roots")

    def __init__(self) -> None:
        self.exact: dict[str, Operation] = {}
        self.roots: dict[int, _Node] = {}


class Router:
    """Matches ``(method, path)`` to an operation; concrete segments win over templated ones.

    Build it once per document (``Router(doc.operations)``); it is read-only after
    that, so one instance can serve concurrent requests. ``base_paths`` (e.g.
    ``["/api/v1"]``, see :func:`server_base_paths`) are prefixes a request must
    start with, followed by ``/``; they are stripped before matching, longest
    first, the next one tried if nothing matches. ``""`` or ``"/"`` among them
    also accepts unprefixed paths. Without ``base_paths`` nothing is stripped.
    """

    def __init__(
        self, operations: Iterable[Operation], *, base_paths: Iterable[str] | None = None
    ) -> None:
        self._ops = list(operations)
        self._tables: dict[str, _Table] = {}
        for op in self._ops:
            self._add(op)
        for table in self._tables.values():
            for root in table.roots.values():
                root.freeze()
        self._bases = None if base_paths is None else _bases(base_paths)

    def _add(self, op: Operation) -> None:
        table = self._tables.setdefault(op.method.upper(), _Table())
        if "{" not in op.path or not _PARAM.search(op.path):
            table.exact.setdefault(op.path, op)
            return
        # keyed by segment count, the leading "" included: a request only walks its own depth
        segs = op.path.split("/")
        node = table.roots.setdefault(len(segs), _Node())
        names: list[str] = []
        for seg in segs:
            node = node.child(seg, names)
        if node.leaf is None:
            node.leaf = (op, tuple(names))

    @property
    def operations(self) -> list[Operation]:
        """The operations the router was built from, in document order."""
        return list(self._ops)

    def match(self, method: str, path: str) -> Match | None:
        """The operation serving ``method path`` (query ignored), or None for 404/405."""
        if "?" in path:
            path = path.partition("?")[0]
        table = self._tables.get(method)
        if table is None:
            method = method.upper()
            table = self._tables.get(method)
        if self._bases is None:
            return self._find(method, table, path)
        for prefix, cut in self._bases:
            if path.startswith(prefix):
                found = self._find(method, table, path[cut:])
                if found is not None:
                    return found
        return None

    def _find(self, method: str, table: _Table | None, path: str) -> Match | None:
        leaf = None
        if table is not None:
            op = table.exact.get(path)
            if op is not None:
                found = _new_match(Match)
                _set_operation(found, op)
                _set_params(found, {})
                return found
            if table.roots:
                segs = path.split("/")
                root = table.roots.get(len(segs))
                if root is not None:
                    values: list[str] = []
                    # A depth-first search's first branch is the greedy one: walk it in a
                    # loop; search in full only when it dead-ends past an alternative.
                    node, forked = root, False
                    for seg in segs:
                        child = node.literals.get(seg)
                        if child is not None:
                            forked = forked or node.alt
                            node = child
                            continue
                        if not seg:  # parameters never match an empty segment
                            break
                        if node.patterns:
                            forked = True
                            child = _first_pattern(node, seg, values)
                            if child is not None:
                                node = child
                                continue
                        if node.param is None:
                            break
                        values.append(seg)
                        node = node.param
                    else:
                        leaf = node.leaf
                    if leaf is None and forked:
                        values = []
                        leaf = _walk(root, segs, 0, values)
        if leaf is None:
            if method == "HEAD":
                return self._find("GET", self._tables.get("GET"), path)
            return None
        op, names = leaf
        # dict displays are 2-4x faster than dict(zip()) here; most templates have 1-3 params
        n = len(names)
        if n == 1:
            params = {names[0]: values[0]}
        elif n == 2:
            params = {names[0]: values[0], names[1]: values[1]}
        elif n == 3:
            params = {names[0]: values[0], names[1]: values[1], names[2]: values[2]}
        else:
            params = dict(zip(names, values, strict=False))  # same length by construction
        found = _new_match(Match)
        _set_operation(found, op)
        _set_params(found, params)
        return found

    def allowed_methods(self, path: str) -> set[str]:
        """Every method some operation on this path accepts (for a 405's ``Allow``).

        Empty when no template fits the path at all (a 404). ``HEAD`` is listed
        whenever ``GET`` is, since it falls back to it.
        """
        if "?" in path:
            path = path.partition("?")[0]
        if self._bases is None:
            paths = [path]
        else:
            paths = [path[cut:] for prefix, cut in self._bases if path.startswith(prefix)]
        allowed = set()
        for method, table in self._tables.items():
            for candidate in paths:
                if self._find(method, table, candidate) is not None:
                    allowed.add(method)
                    break
        if "GET" in allowed:
            allowed.add("HEAD")
        return allowed


def _bases(base_paths: Iterable[str]) -> tuple[tuple[str, int], ...]:
    """(prefix with its trailing slash, length to cut) per base path, longest first."""
    out: set[str] = set()
    for base in base_paths:
        if (base and not base.startswith("/")) or "?" in base or "{" in base:
            raise ConfigError(
                f"base path {base!r} must be a literal path starting with '/'", key="base_paths"
            )
        out.add(base.rstrip("/"))
    return tuple((b + "/", len(b)) for b in sorted(out, key=len, reverse=True))


def server_base_paths(servers: Iterable[Server]) -> list[str]:
    """The path part of each server URL, variables set to their defaults (``""`` for none).

    ``https://api.example.com/v1`` gives ``/v1``; a relative ``/api`` gives ``/api``.
    """
    out: list[str] = []
    for server in servers:
        url = server.url
        for name, var in server.variables.items():
            if isinstance(var, dict) and isinstance(var.get("default"), str):
                url = url.replace("{" + str(name) + "}", var["default"])
        path = urllib.parse.urlsplit(url).path.rstrip("/")
        if "{" not in path and path not in out:
            out.append(path)
    return out
