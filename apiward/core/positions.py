"""JSON pointer -> (line, column) in the JSON or YAML text a document was read from.

Positions are 1-based and count characters. A mapping member is placed at its
key (where a reader looks for ``get:`` or ``"get":``), a sequence item at the
item, the root at its first character. A pointer to something that does not
exist gets the position of its deepest existing ancestor.

JSON is indexed lazily: the first lookup scans only the containers on the
pointer's path (with the C scanner of :mod:`json`), and each scanned container
remembers its members, so later lookups are dictionary hits. YAML is indexed in
one pass over libyaml's events into a light tree of positions.
"""

from __future__ import annotations

import bisect
import json
import json.decoder
import json.scanner
import re
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)

from apiward.core import pointer as jp

_WS = re.compile(r"[ \t\n\r]*")
_SCAN: Any = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]
_STRING: Any = json.decoder.scanstring  # type: ignore[attr-defined]  # C, not in the stubs


class PositionIndex:
    """Answers ``position(pointer)`` for one file's text."""

    def __init__(self, text: str, fmt: str) -> None:
        self.text = text
        self.format = fmt
        self._lines: list[int] | None = None
        self._json: _JsonIndex | None = None
        self._yaml: _YamlNode | None = None

    def position(self, pointer: str) -> tuple[int, int] | None:
        """1-based (line, column) of ``pointer`` or of its deepest existing ancestor."""
        try:
            tokens = jp.split(pointer)
        except ValueError:
            return None
        if self.format == "json":
            if self._json is None:
                self._json = _JsonIndex(self.text)
            offset = self._json.offset(tokens)
            return None if offset is None else self._line_column(offset)
        if self._yaml is None:
            self._yaml = _yaml_tree(self.text)
        return None if self._yaml is None else self._yaml.find(tokens)

    def _line_column(self, offset: int) -> tuple[int, int]:
        if self._lines is None:
            self._lines = [m.end() for m in re.finditer("\n", self.text)]
        line = bisect.bisect_right(self._lines, offset)
        start = self._lines[line - 1] if line else 0
        return line + 1, offset - start + 1


class _JsonIndex:
    """Member offsets of the JSON containers visited so far, keyed by their offset."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.root = _WS.match(text).end()  # type: ignore[union-attr]  # always matches
        self._objects: dict[int, dict[str, tuple[int, int]]] = {}
        self._arrays: dict[int, list[int]] = {}

    def offset(self, tokens: list[str]) -> int | None:
        text = self.text
        if self.root >= len(text):
            return None
        at = found = self.root
        for token in tokens:
            char = text[at]
            if char == "{":
                member = self._object(at).get(token)
                if member is None:
                    break
                found, at = member
            elif char == "[":
                items = self._array(at)
                if not token.isdigit() or int(token) >= len(items):
                    break
                found = at = items[int(token)]
            else:
                break
        return found

    def _object(self, start: int) -> dict[str, tuple[int, int]]:
        members = self._objects.get(start)
        if members is None:
            members = self._objects[start] = {}
            text, ws = self.text, _WS.match
            at = ws(text, start + 1).end()  # type: ignore[union-attr]
            try:
                while text[at] == '"':
                    key, end = _STRING(text, at + 1)
                    value = ws(text, ws(text, end).end() + 1).end()  # type: ignore[union-attr]
                    members[key] = (at, value)  # the last duplicate wins, as in json.loads
                    at = ws(text, _SCAN(text, value)[1]).end()  # type: ignore[union-attr]
                    if text[at] != ",":
                        break
                    at = ws(text, at + 1).end()  # type: ignore[union-attr]
            except (IndexError, StopIteration, ValueError):
                pass  # not the JSON that was parsed; keep what was found
        return members

    def _array(self, start: int) -> list[int]:
        items = self._arrays.get(start)
        if items is None:
            items = self._arrays[start] = []
            text, ws = self.text, _WS.match
            at = ws(text, start + 1).end()  # type: ignore[union-attr]
            try:
                while text[at] != "]":
                    items.append(at)
                    at = ws(text, _SCAN(text, at)[1]).end()  # type: ignore[union-attr]
                    if text[at] != ",":
                        break
                    at = ws(text, at + 1).end()  # type: ignore[union-attr]
            except (IndexError, StopIteration, ValueError):
                pass
        return items


class _YamlNode:
    """A YAML collection's position and its members' positions (and ``<<`` sources)."""

    __slots__ = ("children", "merges", "position")

    def __init__(self, position: tuple[int, int], mapping: bool) -> None:
        self.position = position
        self.children: (
            dict[str, tuple[tuple[int, int], _YamlNode | None]]
            | list[tuple[tuple[int, int], _YamlNode | None]]
        ) = {} if mapping else []
        self.merges: list[_YamlNode] = []

    def member(self, token: str) -> tuple[tuple[int, int], _YamlNode | None] | None:
        children = self.children
        if isinstance(children, list):
            if token.isdigit() and int(token) < len(children):
                return children[int(token)]
            return None
        hit = children.get(token)
        if hit is None:
            for source in self.merges:
                hit = source.member(token)
                if hit is not None:
                    break
        return hit

    def find(self, tokens: list[str]) -> tuple[int, int]:
        node: _YamlNode | None = self
        found = self.position
        for token in tokens:
            hit = node.member(token) if node is not None else None
            if hit is None:
                break
            found, node = hit
        return found


def _yaml_tree(text: str) -> _YamlNode | None:
    """The position tree of the first YAML document in ``text`` (None if it has none)."""
    from apiward.core.yamlload import YamlLoader

    stack: list[_YamlNode] = []
    keys: list[tuple[str, tuple[int, int]] | None] = []
    anchors: dict[str, _YamlNode | None] = {}
    scalars: dict[str, str] = {}  # anchored scalars, for aliases used as keys
    root: _YamlNode | None = None
    ev: Any
    try:
        for ev in yaml.parse(text, Loader=YamlLoader):
            cls = ev.__class__
            mark = ev.start_mark
            where = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
            node: _YamlNode | None = None
            if cls is MappingStartEvent or cls is SequenceStartEvent:
                node = _YamlNode(where, cls is MappingStartEvent)
                if ev.anchor is not None:
                    anchors[ev.anchor] = node
            elif cls is MappingEndEvent or cls is SequenceEndEvent:
                stack.pop()
                keys.pop()
                continue
            elif cls is ScalarEvent:
                if ev.anchor is not None:
                    anchors[ev.anchor] = None
                    scalars[ev.anchor] = ev.value
                if stack and keys[-1] is None and isinstance(stack[-1].children, dict):
                    keys[-1] = (ev.value, where)
                    continue
            elif cls is AliasEvent:
                if stack and keys[-1] is None and isinstance(stack[-1].children, dict):
                    keys[-1] = (scalars.get(ev.anchor, ""), where)
                    continue
                node = anchors.get(ev.anchor)
            else:
                continue
            if not stack:
                if root is not None:
                    break  # a second document: the loader refused it already
                root = node
            else:
                _attach(stack[-1], keys, node, where)
            if node is not None and cls is not AliasEvent:
                stack.append(node)
                keys.append(None)
    except yaml.YAMLError:
        pass  # the loader reported it; positions stay best effort
    return root


def _attach(
    parent: _YamlNode,
    keys: list[tuple[str, tuple[int, int]] | None],
    node: _YamlNode | None,
    where: tuple[int, int],
) -> None:
    children = parent.children
    if isinstance(children, list):
        children.append((where, node))
        return
    pending = keys[-1]
    keys[-1] = None
    if pending is None:
        return  # a collection used as a key: the loader refuses those
    key, key_where = pending
    if key == "<<" and node is not None:
        # as in PyYAML: a later '<<' wins over an earlier one, a list's first item over the rest
        if isinstance(node.children, dict):
            parent.merges[0:0] = [node]
        else:
            parent.merges[0:0] = [n for _, n in node.children if n is not None]
        return
    children[key] = (key_where, node)
