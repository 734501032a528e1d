"""YAML -> plain Python data, built straight from libyaml's event stream.

PyYAML's own constructor is bypassed for three reasons: it is about six times
slower on large specs, it cannot bound what aliases expand to (the "billion
laughs" bomb), and it silently keeps the last of two duplicate keys. Here every
mapping key stays the string it was written as (``200:`` is ``"200"``, ``on:``
is ``"on"``: OpenAPI keys are strings), timestamps stay strings (JSON has no
dates), and only the standard YAML tags are accepted. Plain scalars are
resolved with PyYAML's YAML 1.1 rules, so values match ``yaml.safe_load``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from apiward.errors import ParseError

if TYPE_CHECKING:
    from apiward.core.source import Limits

YamlLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_TAG = "tag:yaml.org,2002:"
_IMPLICIT: dict[str | None, list[tuple[str, Any]]] = Resolver.yaml_implicit_resolvers
_SAFE = SafeConstructor()


def _via(method: Callable[[ScalarNode], Any], tag: str) -> Callable[[str], Any]:
    return lambda value: method(ScalarNode(tag, value))


_CONVERT: dict[str, Callable[[str], Any]] = {
    _TAG + "int": _via(_SAFE.construct_yaml_int, _TAG + "int"),
    _TAG + "float": _via(_SAFE.construct_yaml_float, _TAG + "float"),
    _TAG + "bool": _via(_SAFE.construct_yaml_bool, _TAG + "bool"),
    _TAG + "null": _via(_SAFE.construct_yaml_null, _TAG + "null"),
}
_AS_TEXT = frozenset({"!", _TAG + "str", _TAG + "timestamp", _TAG + "binary"})
_MAP_TAGS = frozenset({None, "!", _TAG + "map", _TAG + "set"})
_SEQ_TAGS = frozenset({None, "!", _TAG + "seq", _TAG + "omap", _TAG + "pairs"})
_MERGE = "<<"


class _Merge(str):
    """The pending key of a ``<<:`` merge (a distinct object, never stored as a key)."""


_MERGE_KEY = _Merge(_MERGE)


def _scalar(ev: ScalarEvent, uri: str) -> Any:
    value: str = ev.value
    tag = ev.tag
    if tag is None:
        if not ev.implicit[0]:  # quoted: always a string
            return value
        for resolved, regexp in _IMPLICIT.get(value[:1], ()):
            if regexp.match(value):
                tag = resolved
                break
        else:
            return value
    elif tag in _AS_TEXT:
        return value
    convert = _CONVERT.get(tag)
    if convert is None:
        if ev.tag is None:  # an implicit type we keep as text (timestamps)
            return value
        raise _error(f"unsupported YAML tag {tag!r}", uri, ev)
    try:
        return convert(value)
    except (ValueError, KeyError, yaml.YAMLError):
        raise _error(f"{value!r} is not a valid {tag.removeprefix(_TAG)}", uri, ev) from None


def _error(message: str, uri: str, ev: Any) -> ParseError:
    mark = ev.start_mark
    return ParseError(message, file=uri, line=mark.line + 1, column=mark.column + 1)


def _merged(mapping: dict[str, Any], sources: list[Any], uri: str, ev: Any) -> None:
    """Apply ``<<`` merges the way PyYAML does: explicit keys win, then earlier sources."""
    order: list[Any] = []
    for source in sources:
        order.extend(reversed(source) if isinstance(source, list) else [source])
    if not all(isinstance(s, dict) for s in order):
        raise _error("'<<' (merge) takes a mapping or a list of mappings", uri, ev)
    result: dict[str, Any] = {}
    for source in order:
        result.update(source)
    result.update(mapping)
    mapping.clear()
    mapping.update(result)


def load_yaml(text: str, uri: str, limits: Limits) -> Any:
    """Parse one YAML document. Raises :class:`ParseError` with file, line and column."""
    try:
        return _build(text, uri, limits)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ParseError(
            f"invalid YAML: {exc.problem or exc.context or exc}",
            file=uri,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - text.rfind("\n", 0, exc.position)
        raise ParseError(
            f"invalid YAML: {exc.reason} (character {exc.character!r})",
            file=uri,
            line=line,
            column=column,
        ) from None
    except yaml.YAMLError as exc:
        raise ParseError(f"invalid YAML: {exc}", file=uri) from None


def _build(text: str, uri: str, limits: Limits) -> Any:
    # Parallel stacks, one entry per open collection: the collection, its pending key
    # (None: a key is expected next), its expanded size, its anchor and its '<<' sources.
    stack: list[Any] = []
    keys: list[str | None] = []
    sizes: list[int] = []
    open_anchors: list[str | None] = []
    merges: list[list[Any] | None] = []
    anchors: dict[str, tuple[Any, int]] = {}
    root: Any = None
    documents = aliases = expanded = 0
    ev: Any
    for ev in yaml.parse(text, Loader=YamlLoader):
        cls = ev.__class__
        size = 1
        if cls is ScalarEvent:
            if stack and keys[-1] is None and stack[-1].__class__ is dict:
                key = ev.value
                if key == _MERGE and ev.tag is None and ev.implicit[0]:
                    keys[-1] = _MERGE_KEY
                    continue
                if key in stack[-1]:
                    raise _error(
                        f"duplicate key {key!r} (YAML keys must be unique; parsers disagree "
                        "on which one counts)",
                        uri,
                        ev,
                    )
                if ev.anchor is not None:
                    anchors[ev.anchor] = (key, 1)
                keys[-1] = key
                continue
            value = _scalar(ev, uri)
            if ev.anchor is not None:
                anchors[ev.anchor] = (value, 1)
        elif cls is MappingStartEvent or cls is SequenceStartEvent:
            is_map = cls is MappingStartEvent
            if ev.tag not in (_MAP_TAGS if is_map else _SEQ_TAGS):
                raise _error(f"unsupported YAML tag {ev.tag!r}", uri, ev)
            if stack and keys[-1] is None and stack[-1].__class__ is dict:
                raise _error("a mapping key must be a plain value, not a collection", uri, ev)
            if len(stack) >= limits.max_depth:
                raise _error(f"nested more than {limits.max_depth:,} levels deep", uri, ev)
            stack.append({} if is_map else [])
            keys.append(None)
            sizes.append(0)
            open_anchors.append(ev.anchor)
            merges.append(None)
            continue
        elif cls is MappingEndEvent or cls is SequenceEndEvent:
            value = stack.pop()
            keys.pop()
            size += sizes.pop()
            anchor = open_anchors.pop()
            sources = merges.pop()
            if sources is not None:
                _merged(value, sources, uri, ev)
            if anchor is not None:
                anchors[anchor] = (value, size)
        elif cls is AliasEvent:
            if ev.anchor in open_anchors:
                raise _error(f"alias *{ev.anchor} refers to its own parent (recursive)", uri, ev)
            if ev.anchor not in anchors:
                raise _error(f"alias *{ev.anchor} has no anchor &{ev.anchor} before it", uri, ev)
            value, size = anchors[ev.anchor]
            aliases += 1
            expanded += size
            if aliases > limits.max_yaml_aliases or expanded > limits.max_alias_expansion:
                raise _error(
                    f"YAML aliases expand to more than {limits.max_alias_expansion:,} nodes "
                    f"or number more than {limits.max_yaml_aliases:,}: refusing a possible "
                    "alias bomb",
                    uri,
                    ev,
                )
            if stack and keys[-1] is None and stack[-1].__class__ is dict:
                if not isinstance(value, str) or value in stack[-1]:
                    raise _error("an alias used as a key must name a new string", uri, ev)
                keys[-1] = value
                continue
        elif cls is DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise _error("more than one YAML document in the file ('---')", uri, ev)
            continue
        else:
            continue
        if not stack:
            root = value
            continue
        top = stack[-1]
        sizes[-1] += size
        if top.__class__ is list:
            top.append(value)
            continue
        key = keys[-1]
        keys[-1] = None
        if key is _MERGE_KEY:
            pending = merges[-1]
            if pending is None:
                merges[-1] = [value]
            else:
                pending.append(value)
        else:
            top[key] = value
    return root
