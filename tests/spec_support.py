"""Atlassian's OpenAPI files as a test oracle: find the operation for a request, validate a
response body against its response schema, and validate a request (query and JSON body).

The specs are OpenAPI 3.0; jsonschema speaks JSON Schema. ``to_json_schema`` converts:
``nullable`` becomes a ``null`` type, ``format`` is dropped (the files use it loosely, e.g.
``format: string``), and ``oneOf`` becomes ``anyOf`` (several of the spec's ``oneOf`` branches
overlap, e.g. both page body write forms accept ``{"representation", "value"}``). ``$ref`` to
``#/components/...`` resolves against the converted file.

The files are read from ``tests/spec`` (a trimmed copy of Atlassian's documents: the operations
ctk and the sandbox use, see tests/spec/PROVENANCE.md), or from ``$CTK_SPEC_DIR`` when set (e.g.
a folder holding the full documents, under the same file names). Missing files are an error,
never a reason to skip.

Usage::

    specs = load_specs()                   # SpecFilesMissing when the files are absent
    specs.validate_response("GET", "/wiki/api/v2/pages/1", 200, body)   # AssertionError if bad
    problems = specs.request_problems("GET", "/wiki/api/v2/pages", {"limit": ["300"]})
"""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TRIMMED_DIR = Path(__file__).resolve().parent / "spec"
V2_FILE = "confluence-openapi-v2.v3.json"
V1_FILE = "confluence-swagger-v1.v3.json"
V2_PREFIX = "/wiki/api/v2"
_GATEWAY = re.compile(r"^/ex/confluence/[^/]+(?=/wiki/)")
_ATTACHMENT_ID = re.compile(r"^att[0-9]+$")
_DROP = {"format", "example", "xml", "discriminator", "deprecated", "externalDocs"}


class SpecFilesMissing(AssertionError):
    """The OpenAPI files are not where they should be: the contract tests fail, never skip."""


def spec_dir() -> Path:
    """``$CTK_SPEC_DIR`` if set, else the trimmed copy in ``tests/spec``."""
    return Path(os.environ.get("CTK_SPEC_DIR") or TRIMMED_DIR)


def missing_spec_files() -> list[Path]:
    return [spec_dir() / name for name in (V2_FILE, V1_FILE) if not (spec_dir() / name).is_file()]


def to_json_schema(node: Any) -> Any:
    """Convert an OpenAPI 3.0 schema (recursively) to JSON Schema 2020-12."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROP or key.startswith("x-"):
            continue
        if key == "oneOf":
            out["anyOf"] = to_json_schema(value)
        elif key in ("properties", "patternProperties", "$defs") and isinstance(value, dict):
            out[key] = {name: to_json_schema(sub) for name, sub in value.items()}
        elif key == "exclusiveMinimum" and isinstance(value, bool):
            if value and "minimum" in node:
                out["exclusiveMinimum"] = node["minimum"]
        elif key == "exclusiveMaximum" and isinstance(value, bool):
            if value and "maximum" in node:
                out["exclusiveMaximum"] = node["maximum"]
        else:
            out[key] = to_json_schema(value)
    if out.pop("nullable", False) is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    src = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{src}$")


@dataclass
class Operation:
    """One operation: ``template`` is the spec's path key, ``full`` the site path pattern."""

    method: str
    template: str
    full: str
    raw: dict[str, Any] = field(repr=False)
    spec: SpecFile = field(repr=False)

    def __post_init__(self) -> None:
        self.regex = _template_regex(self.full)

    @property
    def operation_id(self) -> str:
        return str(self.raw.get("operationId", ""))

    def parameters(self) -> list[dict[str, Any]]:
        params = []
        path_level = self.spec.doc["paths"][self.template].get("parameters", [])
        for param in [*path_level, *self.raw.get("parameters", [])]:
            params.append(self.spec.deref(param))
        return params

    def response_schema(self, status: int) -> dict[str, Any] | None:
        """The JSON schema of a response, None when the spec declares no JSON body for it."""
        responses = self.raw.get("responses", {})
        resp = responses.get(str(status))
        if resp is None:
            return None
        resp = self.spec.deref(resp)
        content = resp.get("content") or {}
        media = content.get("application/json") or next(
            (v for k, v in content.items() if "json" in k), None
        )
        if not media or "schema" not in media:
            return None
        return media["schema"]

    def request_schema(self) -> tuple[dict[str, Any] | None, bool, list[str]]:
        """(JSON body schema, body required, media types accepted)."""
        body = self.raw.get("requestBody")
        if not body:
            return None, False, []
        body = self.spec.deref(body)
        content = body.get("content") or {}
        media = content.get("application/json")
        schema = media.get("schema") if media else None
        return schema, bool(body.get("required")), list(content)


class SpecFile:
    """One OpenAPI file: its operations by method and concrete path."""

    def __init__(self, path: Path, prefix: str) -> None:
        with path.open(encoding="utf-8") as fh:
            self.doc = json.load(fh)
        self.converted = {"components": to_json_schema(self.doc.get("components", {}))}
        self.operations: list[Operation] = []
        for template, item in self.doc["paths"].items():
            full = prefix + template
            for method, raw in item.items():
                if method.upper() not in ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"):
                    continue
                self.operations.append(Operation(method.upper(), template, full, raw, self))
        # Literal segments win over templated ones (``/content/search`` over ``/content/{id}``).
        self.operations.sort(key=lambda o: o.full.count("{"))
        self._validators: dict[int, Any] = {}

    def deref(self, node: dict[str, Any]) -> dict[str, Any]:
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < 20:
            target: Any = self.doc
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
            seen += 1
        return node

    def find(self, method: str, path: str) -> Operation | None:
        for op in self.operations:
            if op.method == method and op.regex.match(path):
                return op
        return None

    def validator(self, schema: dict[str, Any]) -> Any:
        from jsonschema import Draft202012Validator

        key = id(schema)
        cached = self._validators.get(key)
        if cached is not None and cached[0] is schema:
            return cached[1]
        root = dict(to_json_schema(schema))
        root["components"] = self.converted["components"]
        validator = Draft202012Validator(root)
        self._validators[key] = (schema, validator)
        return validator


class Specs:
    """Both files: v2 operations under ``/wiki/api/v2``, v1 under ``/wiki/rest/api``."""

    def __init__(self, folder: Path) -> None:
        self.v2 = SpecFile(folder / V2_FILE, V2_PREFIX)
        self.v1 = SpecFile(folder / V1_FILE, "")

    def find(self, method: str, path: str) -> Operation | None:
        path = _GATEWAY.sub("", path.split("?", 1)[0])
        spec = self.v2 if path.startswith(V2_PREFIX + "/") else self.v1
        return spec.find(method.upper(), path)

    def operation(self, method: str, path: str) -> Operation:
        op = self.find(method, path)
        if op is None:
            raise AssertionError(f"the spec has no operation {method} {path}")
        return op

    # -- responses ------------------------------------------------------------------------------
    def response_errors(self, method: str, path: str, status: int, body: Any) -> list[str]:
        op = self.operation(method, path)
        schema = op.response_schema(status)
        if schema is None:
            return []
        validator = op.spec.validator(schema)
        return [_describe(err) for err in validator.iter_errors(body)]

    def validate_response(self, method: str, path: str, status: int, body: Any) -> None:
        """AssertionError listing every way ``body`` breaks the response schema."""
        errors = self.response_errors(method, path, status, body)
        if errors:
            op = self.operation(method, path)
            raise AssertionError(
                f"{method} {path} -> {status} does not match "
                f"{op.operation_id}:\n  " + "\n  ".join(errors[:20])
            )

    def has_response_schema(self, method: str, path: str, status: int) -> bool:
        return self.operation(method, path).response_schema(status) is not None

    # -- requests -------------------------------------------------------------------------------
    def request_problems(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]] | dict[str, Any] | None = None,
        body: Any = None,
        content_type: str | None = None,
    ) -> list[str]:
        """Ways a request breaks its operation: unknown or bad query parameters, bad path
        parameters, a JSON body that does not match. Empty when the request is fine."""
        op = self.find(method, path)
        if op is None:
            return [f"the spec has no operation {method.upper()} {path.split('?', 1)[0]}"]
        problems: list[str] = []
        params = op.parameters()
        concrete = _GATEWAY.sub("", path.split("?", 1)[0])
        problems += _path_problems(op, concrete, params)
        problems += _query_problems(op, _as_lists(query or {}), params)
        schema, required, media = op.request_schema()
        if body is None:
            if required and not (content_type and "multipart" in content_type):
                problems.append(f"{op.operation_id}: a request body is required")
            return problems
        if content_type and "json" not in content_type:
            if media and not any(content_type.split(";")[0].strip() in m for m in media):
                problems.append(f"{op.operation_id}: content type {content_type} not in {media}")
            return problems
        if schema is not None:
            validator = op.spec.validator(schema)
            problems += [f"body: {_describe(e)}" for e in validator.iter_errors(body)]
        return problems

    def validate_request(
        self,
        method: str,
        path: str,
        query: Any = None,
        body: Any = None,
        content_type: str | None = None,
    ) -> None:
        problems = self.request_problems(method, path, query, body, content_type)
        if problems:
            raise AssertionError(f"{method} {path}:\n  " + "\n  ".join(problems))


#: Paths a client may call that the spec files do not describe.
UNDESCRIBED = ("/_edge/tenant_info", "/wiki/download/")


def logged_request_problems(
    specs: Specs, entry: dict[str, Any], skip: tuple[str, ...] = UNDESCRIBED
) -> list[str]:
    """``request_problems`` for one entry of the sandbox request log (``sandbox.requests``),
    so a test can check every request some code sent. Paths starting with ``skip`` pass."""
    path = _GATEWAY.sub("", entry["path"])
    if path.startswith(skip):
        return []
    content_type = entry["headers"].get("content-type")
    body: Any = None
    if entry.get("body"):
        if content_type and "json" in content_type:
            try:
                body = json.loads(entry["body"])
            except ValueError:
                return [f"{entry['method']} {path}: the body is not valid JSON"]
        else:
            body = entry["body"]
    return specs.request_problems(entry["method"], path, entry["query"], body, content_type)


def _as_lists(query: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in query.items():
        values = value if isinstance(value, list | tuple) else [value]
        out[key] = [_text(v) for v in values]
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _coerce(raw: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "integer":
        return int(raw)
    if kind == "number":
        return float(raw)
    if kind == "boolean":
        if raw not in ("true", "false"):
            raise ValueError(raw)
        return raw == "true"
    return raw


def _check_value(op: Operation, name: str, raw: str, schema: dict[str, Any]) -> list[str]:
    schema = op.spec.deref(schema)
    try:
        value = _coerce(raw, schema)
    except ValueError:
        return [f"parameter {name}={raw!r} is not a {schema.get('type')}"]
    errors = op.spec.validator(schema).iter_errors(value)
    return [f"parameter {name}={raw!r}: {err.message}" for err in errors]


def _query_problems(
    op: Operation, query: dict[str, list[str]], params: list[dict[str, Any]]
) -> list[str]:
    declared = {p["name"]: p for p in params if p.get("in") == "query"}
    problems = []
    for name, values in query.items():
        param = declared.get(name)
        if param is None:
            problems.append(
                f"{op.operation_id}: unknown query parameter {name!r} "
                f"(known: {', '.join(sorted(declared)) or 'none'})"
            )
            continue
        schema = op.spec.deref(param.get("schema") or {})
        if schema.get("type") == "array":
            item_schema = op.spec.deref(schema.get("items") or {})
            items = [v for value in values for v in value.split(",")]
            for item in items:
                problems += _check_value(op, name, item, item_schema)
            if "maxItems" in schema and len(items) > schema["maxItems"]:
                problems.append(f"parameter {name}: more than {schema['maxItems']} values")
        else:
            if len(values) > 1:
                problems.append(f"parameter {name} given {len(values)} times")
            for value in values:
                problems += _check_value(op, name, value, schema)
    for name, param in declared.items():
        if param.get("required") and name not in query:
            problems.append(f"{op.operation_id}: required query parameter {name!r} missing")
    return problems


def _path_problems(op: Operation, path: str, params: list[dict[str, Any]]) -> list[str]:
    names = re.findall(r"\{([^}]+)\}", op.full)
    match = re.match(op.regex.pattern.replace("[^/]+", "([^/]+)"), path)
    if match is None:
        return []
    declared = {p["name"]: p for p in params if p.get("in") == "path"}
    problems = []
    for name, value in zip(names, match.groups(), strict=True):
        param = declared.get(name)
        schema = op.spec.deref((param or {}).get("schema") or {})
        if schema.get("type") == "integer" and _ATTACHMENT_ID.match(value):
            continue  # quirk: DELETE /attachments/{id} says int64, but the ids are "att<n>"
        if param is not None:
            problems += _check_value(op, name, value, param.get("schema") or {})
    return problems


def _describe(err: Any) -> str:
    where = "/".join(str(p) for p in err.absolute_path) or "(root)"
    return f"at {where}: {err.message[:300]}"


@functools.lru_cache(maxsize=1)
def _load(folder: str) -> Specs:
    return Specs(Path(folder))


def load_specs() -> Specs:
    """Both spec files (parsed once per process); SpecFilesMissing when either is absent."""
    missing = missing_spec_files()
    if missing:
        override = os.environ.get("CTK_SPEC_DIR")
        raise SpecFilesMissing(
            f"Atlassian's OpenAPI files are missing: {', '.join(map(str, missing))}. "
            + (
                f"CTK_SPEC_DIR={override!r} must name a folder holding {V2_FILE} and {V1_FILE}."
                if override
                else f"The trimmed copy belongs in {TRIMMED_DIR}: restore it, or regenerate it "
                "with tests/spec/trim.py (see tests/spec/PROVENANCE.md)."
            )
        )
    return _load(str(spec_dir()))
