"""Swagger 2.0 -> OpenAPI 3.0, so that every tool sees one model.

:func:`convert` returns the OpenAPI 3.0 mapping and ``origin``, which maps a
pointer in it back to the pointer as written in the Swagger file (the longest
mapped prefix wins, the rest of the pointer is kept), so findings point at the
lines the author wrote. What is converted: ``host``/``basePath``/``schemes`` to
``servers`` (an ``http`` scheme stays ``http``; with no ``schemes`` the URL is
scheme-relative, ``//host/base``), ``definitions``/``parameters``/``responses``
to ``components`` (local ``$ref`` s rewritten), body and formData parameters to
``requestBody``, ``consumes``/``produces`` to media types, and
``securityDefinitions`` to ``securitySchemes``. Files ``$ref`` d from a Swagger
document are read as written, not converted.

When several media types share one schema, the first holds it and the others
``$ref`` it, so the schema is still indexed (and reported) once, as written.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apiward.core import pointer as jp

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
_OP_KEYS = ("tags", "summary", "description", "externalDocs", "operationId", "deprecated")
_PARAM_KEYS = ("name", "in", "description", "required", "deprecated", "allowEmptyValue")
_SCHEMA_KEYS = (
    "type", "format", "items", "default", "maximum", "exclusiveMaximum", "minimum",
    "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems",
    "uniqueItems", "enum", "multipleOf", "x-nullable",
)  # fmt: skip
_STYLES = {"ssv": "spaceDelimited", "pipes": "pipeDelimited"}
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
_FLOWS = {
    "implicit": ("implicit", ("authorizationUrl",)),
    "password": ("password", ("tokenUrl",)),
    "application": ("clientCredentials", ("tokenUrl",)),
    "accessCode": ("authorizationCode", ("authorizationUrl", "tokenUrl")),
}
_DEFAULT_MEDIA = ["application/json"]


@dataclass(frozen=True, slots=True)
class _Payload:
    """A body or formData parameter: the parameter, where it is written, and the $ref used."""

    param: dict[str, Any]
    orig: str
    via: tuple[str, str] | None  # (rewritten $ref, pointer of the $ref) when referenced

    @property
    def key(self) -> tuple[str, str]:
        return str(self.param.get("in")), str(self.param.get("name"))


def convert(data: dict[str, Any], uri: str) -> tuple[dict[str, Any], Callable[[str], str]]:
    """The OpenAPI 3.0 form of a Swagger 2.0 mapping, and its pointer ``origin`` map."""
    conv = _Converter(data)
    return conv.run(), conv.origin


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _extensions(src: dict[str, Any], out: dict[str, Any]) -> None:
    out.update((k, v) for k, v in src.items() if isinstance(k, str) and k.startswith("x-"))


def _media(value: Any, default: list[str]) -> list[str]:
    types = [t for t in _list(value) if isinstance(t, str)]
    return types or default


class _Converter:
    def __init__(self, data: dict[str, Any]) -> None:
        self.src = data
        self.origins: dict[str, str] = {"/openapi": "/swagger"}
        self.consumes = _media(data.get("consumes"), _DEFAULT_MEDIA)
        self.produces = _media(data.get("produces"), _DEFAULT_MEDIA)
        self.params = _dict(data.get("parameters"))
        host, base = data.get("host"), data.get("basePath")
        self.host = host if isinstance(host, str) and host else None
        self.base = base if isinstance(base, str) else ""

    def origin(self, pointer: str) -> str:
        """The pointer as written in the Swagger file for ``pointer`` in the converted one."""
        prefix = pointer
        while True:
            hit = self.origins.get(prefix)
            if hit is not None:
                return hit + pointer[len(prefix) :]
            if not prefix:
                return pointer
            prefix = prefix[: prefix.rfind("/")]

    def _map(self, converted: str, original: str) -> None:
        if converted != original:
            self.origins[converted] = original

    # -- top level --------------------------------------------------------

    def run(self) -> dict[str, Any]:
        src = self.src
        out: dict[str, Any] = {"openapi": "3.0.3", "info": src.get("info", {})}
        servers = self._servers(src.get("schemes"), "")
        if servers:
            out["servers"] = servers
        for key in ("tags", "externalDocs"):
            if key in src:
                out[key] = src[key]
        out["paths"] = self._paths(_dict(src.get("paths")))
        components = self._components()
        if components:
            out["components"] = components
        if "security" in src:
            out["security"] = src["security"]
        _extensions(src, out)
        return out

    def _servers(self, schemes: Any, at: str) -> list[dict[str, Any]]:
        schemes = [s for s in _list(schemes) if isinstance(s, str)]
        if self.host is None:
            if at or not self.base:
                return []
            self._map("/servers", "/basePath")
            return [{"url": self.base}]
        if not schemes:
            self._map(at + "/servers", "/host")
            return [] if at else [{"url": f"//{self.host}{self.base}"}]
        self._map(at + "/servers", at + "/schemes")
        return [{"url": f"{s.lower()}://{self.host}{self.base}"} for s in schemes]

    def _components(self) -> dict[str, Any]:
        src = self.src
        out: dict[str, Any] = {}
        definitions = _dict(src.get("definitions"))
        if definitions:
            out["schemas"] = {k: self._schema(v) for k, v in definitions.items()}
            self._map("/components/schemas", "/definitions")
        params: dict[str, Any] = {}
        bodies: dict[str, Any] = {}
        for name, p in self.params.items():
            orig = jp.join("/parameters", name)
            if not isinstance(p, dict) or p.get("in") == "formData":
                continue  # formData parameters are inlined where they are used
            if p.get("in") == "body":
                at = jp.join("/components/requestBodies", name)
                bodies[name] = self._body(p, orig, at, self.consumes)
            else:
                at = jp.join("/components/parameters", name)
                params[name] = self._param(p, orig, at)
        if params:
            out["parameters"] = params
        if bodies:
            out["requestBodies"] = bodies
        responses = _dict(src.get("responses"))
        if responses:
            out["responses"] = {
                name: self._response(
                    r, jp.join("/responses", name), jp.join("/components/responses", name)
                )
                for name, r in responses.items()
            }
        schemes = {
            name: self._security_scheme(s, name)
            for name, s in _dict(src.get("securityDefinitions")).items()
            if isinstance(s, dict)
        }
        if schemes:
            out["securitySchemes"] = schemes
        return out

    def _security_scheme(self, s: dict[str, Any], name: str) -> dict[str, Any]:
        at, orig = (
            jp.join("/components/securitySchemes", name),
            jp.join("/securityDefinitions", name),
        )
        self._map(at, orig)
        out: dict[str, Any] = {}
        kind = s.get("type")
        if kind == "basic":
            out = {"type": "http", "scheme": "basic"}
            self._map(at + "/scheme", orig + "/type")
        elif kind == "apiKey":
            out = {"type": "apiKey", "name": s.get("name"), "in": s.get("in")}
        elif kind == "oauth2" and str(s.get("flow")) in _FLOWS:
            flow, urls = _FLOWS[str(s["flow"])]
            spec = {u: s.get(u, "") for u in urls}
            spec["scopes"] = s.get("scopes") if isinstance(s.get("scopes"), dict) else {}
            out = {"type": "oauth2", "flows": {flow: spec}}
            self._map(at + "/flows", orig + "/flow")
            self._map(f"{at}/flows/{flow}", orig)
        else:
            out = {"type": kind}
        if "description" in s:
            out["description"] = s["description"]
        _extensions(s, out)
        return out

    # -- paths and operations ---------------------------------------------

    def _paths(self, paths: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for path, item in paths.items():
            if not isinstance(item, dict) or str(path).startswith("x-"):
                out[path] = item
                continue
            at = jp.join("/paths", path)
            shared = self._split_params(item.get("parameters"), at, at)
            new: dict[str, Any] = {}
            if isinstance(item.get("$ref"), str):
                new["$ref"] = self._ref(item["$ref"])
            if shared[0]:
                new["parameters"] = shared[0]
            for method in _METHODS:
                op = item.get(method)
                if isinstance(op, dict):
                    new[method] = self._operation(op, jp.join(at, method), shared)
            _extensions(item, new)
            out[path] = new
        return out

    def _split_params(self, value: Any, orig: str, at: str) -> tuple[list[Any], list[_Payload]]:
        """(OpenAPI 3 parameters, the body and formData parameters)."""
        params: list[Any] = []
        payload: list[_Payload] = []
        for i, p in enumerate(_list(value)):
            p_orig = jp.join(orig, "parameters", i)
            target, t_orig = p, p_orig
            ref = p.get("$ref") if isinstance(p, dict) else None
            if isinstance(ref, str) and ref.startswith("#/parameters/"):
                name = jp.unescape(urllib.parse.unquote(ref[len("#/parameters/") :]))
                target, t_orig = self.params.get(name), jp.join("/parameters", name)
            if isinstance(target, dict) and target.get("in") in ("body", "formData"):
                via = (self._ref(ref), p_orig) if isinstance(ref, str) else None
                payload.append(_Payload(target, t_orig, via))
                continue
            p_at = jp.join(at, "parameters", len(params))
            if isinstance(ref, str):
                params.append({"$ref": self._ref(ref)})
                self._map(p_at, p_orig)
            elif isinstance(p, dict):
                params.append(self._param(p, p_orig, p_at))
        return params, payload

    def _operation(
        self, op: dict[str, Any], at: str, shared: tuple[list[Any], list[_Payload]]
    ) -> dict[str, Any]:
        out: dict[str, Any] = {k: op[k] for k in _OP_KEYS if k in op}
        params, payload = self._split_params(op.get("parameters"), at, at)
        own = {x.key for x in payload}
        payload += [x for x in shared[1] if x.key not in own]
        if params:
            out["parameters"] = params
        consumes = _media(op.get("consumes"), self.consumes)
        body = next((x for x in payload if x.param.get("in") == "body"), None)
        forms = [(x.param, x.orig) for x in payload if x.param.get("in") == "formData"]
        if body is not None and body.via is not None and consumes == self.consumes:
            out["requestBody"] = {"$ref": body.via[0]}  # the component, with the same media
            self._map(at + "/requestBody", body.via[1])
        elif body is not None:
            out["requestBody"] = self._body(body.param, body.orig, at + "/requestBody", consumes)
        elif forms:
            out["requestBody"] = self._form(forms, at + "/requestBody", consumes)
        produces = _media(op.get("produces"), self.produces)
        responses = _dict(op.get("responses"))
        out["responses"] = {
            status: self._response(r, jp.join(at, "responses", status), None, produces)
            if not str(status).startswith("x-")
            else r
            for status, r in responses.items()
        }
        servers = self._servers(op.get("schemes"), at) if "schemes" in op else []
        if servers:
            out["servers"] = servers
        if "security" in op:
            out["security"] = op["security"]
        _extensions(op, out)
        return out

    def _param(self, p: dict[str, Any], orig: str, at: str) -> dict[str, Any]:
        self._map(at, orig)
        if isinstance(p.get("$ref"), str):
            return {"$ref": self._ref(p["$ref"])}
        out = {k: p[k] for k in _PARAM_KEYS if k in p}
        fmt = str(p.get("collectionFormat"))
        if fmt == "multi":
            out.update(style="form", explode=True)
        elif fmt in _STYLES:
            out.update(style=_STYLES[fmt], explode=False)
        elif fmt == "csv" or ("collectionFormat" not in p and p.get("type") == "array"):
            out.update(style="form" if p.get("in") in ("query", "cookie") else "simple")
            out["explode"] = False
        if "x-example" in p:
            out["example"] = p["x-example"]
        _extensions(p, out)
        out["schema"] = self._schema({k: p[k] for k in _SCHEMA_KEYS if k in p})
        self._map(at + "/schema", orig)
        return out

    def _body(self, p: dict[str, Any], orig: str, at: str, consumes: list[str]) -> dict[str, Any]:
        self._map(at, orig)
        out: dict[str, Any] = {k: p[k] for k in ("description", "required") if k in p}
        out["content"] = self._content(self._schema(p.get("schema", {})), consumes, at, orig)
        _extensions(p, out)
        return out

    def _form(
        self, forms: list[tuple[dict[str, Any], str]], at: str, consumes: list[str]
    ) -> dict[str, Any]:
        self._map(at, forms[0][1])
        properties: dict[str, Any] = {}
        required: list[str] = []
        media = [m for m in consumes if m in _FORMS]
        for p, _ in forms:
            name = str(p.get("name", ""))
            prop = self._schema({k: p[k] for k in _SCHEMA_KEYS if k in p})
            if "description" in p:
                prop["description"] = p["description"]
            properties[name] = prop
            if p.get("required") is True:
                required.append(name)
            if p.get("type") == "file" and not media:
                media = ["multipart/form-data"]
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
        content = self._content(schema, media or [_FORMS[0]], at, forms[0][1], schema_ptr=False)
        for mt in content:
            props = jp.join(at, "content", mt, "schema", "properties")
            for p, orig in forms:
                self._map(jp.join(props, str(p.get("name", ""))), orig)
        return {"required": True, "content": content} if required else {"content": content}

    def _content(
        self, schema: Any, media: list[str], at: str, orig: str, *, schema_ptr: bool = True
    ) -> dict[str, Any]:
        content: dict[str, Any] = {}
        media = list(dict.fromkeys(media))
        first = "#" + jp.join(at, "content", media[0], "schema")
        for i, mt in enumerate(media):
            mt_at = jp.join(at, "content", mt)
            self._map(mt_at, orig)
            if schema_ptr:
                self._map(mt_at + "/schema", orig + "/schema")
            content[mt] = {"schema": schema if i == 0 else {"$ref": first}}
        return content

    def _response(
        self,
        r: Any,
        orig: str,
        at: str | None,
        produces: list[str] | None = None,
    ) -> Any:
        at = at or orig
        self._map(at, orig)
        if not isinstance(r, dict):
            return r
        if isinstance(r.get("$ref"), str):
            return {"$ref": self._ref(r["$ref"])}
        out: dict[str, Any] = {"description": r.get("description", "")}
        headers: dict[str, Any] = {}
        for name, h in _dict(r.get("headers")).items():
            if isinstance(h, dict):
                header: dict[str, Any] = {k: h[k] for k in ("description",) if k in h}
                header["schema"] = self._schema({k: h[k] for k in _SCHEMA_KEYS if k in h})
                _extensions(h, header)
                headers[name] = header
                self._map(jp.join(at, "headers", name, "schema"), jp.join(orig, "headers", name))
        if headers:
            out["headers"] = headers
        media = produces or self.produces
        if "schema" in r:
            out["content"] = self._content(self._schema(r["schema"]), media, at, orig)
        examples = _dict(r.get("examples"))
        for mt, example in examples.items():
            entry = out.setdefault("content", {}).setdefault(mt, {})
            entry["example"] = example
            self._map(jp.join(at, "content", mt, "example"), jp.join(orig, "examples", mt))
        _extensions(r, out)
        return out

    # -- schemas and references -------------------------------------------

    def _ref(self, ref: str) -> str:
        head, _, rest = ref.partition("/")
        if head != "#" or not rest:
            return ref  # another file: read as written
        section, _, tail = rest.partition("/")
        if section == "definitions":
            return "#/components/schemas/" + tail
        if section == "responses":
            return "#/components/responses/" + tail
        if section == "parameters":
            name = jp.unescape(urllib.parse.unquote(tail.partition("/")[0]))
            body = _dict(self.params.get(name)).get("in") == "body"
            return f"#/components/{'requestBodies' if body else 'parameters'}/{tail}"
        return ref

    def _schema(self, value: Any) -> Any:
        """A copy of a Swagger schema as an OpenAPI 3.0 schema (iterative: no depth limit)."""
        if not isinstance(value, dict | list):
            return value
        copies: dict[int, Any] = {}  # keeps YAML-alias sharing (and survives cycles)
        root: Any = {} if isinstance(value, dict) else []
        copies[id(value)] = root
        stack = [(value, root)]
        while stack:
            src, dst = stack.pop()
            items = src.items() if isinstance(src, dict) else enumerate(src)
            for key, child in items:
                if isinstance(child, dict | list):
                    copy = copies.get(id(child))
                    if copy is None:
                        copy = copies[id(child)] = {} if isinstance(child, dict) else []
                        stack.append((child, copy))
                    child = copy
                if isinstance(dst, dict):
                    dst[key] = child
                else:
                    dst.append(child)
            if isinstance(src, dict):
                self._fix_schema(src, dst)
        return root

    def _fix_schema(self, src: dict[str, Any], dst: dict[str, Any]) -> None:
        if isinstance(src.get("$ref"), str):
            dst["$ref"] = self._ref(src["$ref"])
        if src.get("x-nullable") is True:
            dst["nullable"] = True
        if src.get("type") == "file":
            dst.update(type="string", format="binary")
        if isinstance(src.get("discriminator"), str):
            dst["discriminator"] = {"propertyName": src["discriminator"]}
