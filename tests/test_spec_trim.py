"""tests/spec/trim.py, which writes the trimmed OpenAPI documents in tests/spec: its logic on a
small document, and the committed copy being exactly what it writes for operations.txt."""

from __future__ import annotations

import importlib.util
import json

import pytest
from spec_support import TRIMMED_DIR

_SPEC = importlib.util.spec_from_file_location("spec_trim", TRIMMED_DIR / "trim.py")
assert _SPEC is not None
assert _SPEC.loader is not None
trim = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(trim)

DOC = {
    "openapi": "3.0.3",
    "info": {"title": "T", "version": "1", "description": "prose", "x-logo": "l"},
    "externalDocs": {"url": "https://example.com"},
    "tags": [{"name": "Page"}],
    "servers": [
        {"url": "https://{d}/wiki", "variables": {"d": {"default": "x", "description": "d"}}}
    ],
    "paths": {
        "/things/{id}": {
            "parameters": [{"$ref": "#/components/parameters/Id"}],
            "get": {
                "operationId": "getThing",
                "summary": "Get a thing",
                "description": "Long prose.",
                "tags": ["Thing"],
                "security": [{"oAuth": ["read"]}],
                "x-atlassian-connect-scope": "READ",
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Thing"},
                                "example": {"id": 1},
                            }
                        },
                    },
                    "404": {"$ref": "#/components/responses/NotFound"},
                },
            },
            "delete": {"operationId": "deleteThing", "responses": {"204": {"description": "x"}}},
        },
        "/other": {"get": {"operationId": "other", "responses": {}}},
    },
    "components": {
        "parameters": {
            "Id": {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}},
            "Unused": {"name": "u", "in": "query", "schema": {"type": "string"}},
        },
        "responses": {"NotFound": {"description": "gone"}},
        "schemas": {
            "Thing": {
                "type": "object",
                "description": "A thing.",
                "required": ["description"],
                "properties": {
                    "description": {"type": "string", "description": "named description"},
                    "example": {"type": "string", "example": "e"},
                    "x-custom": {"type": "string"},
                    "part": {"$ref": "#/components/schemas/Part"},
                    "state": {"type": "string", "enum": ["a", "b"], "default": "a"},
                    "extra": {"type": "object", "default": {"description": "literal"}},
                },
            },
            "Part": {"allOf": [{"$ref": "#/components/schemas/Base"}], "nullable": True},
            "Base": {"type": "object", "properties": {"n": {"type": "integer", "maximum": 9}}},
            "Unused": {"type": "string"},
        },
        "securitySchemes": {"oAuth": {"type": "oauth2"}},
    },
    "x-atlassian-narrative": {"documents": []},
}


def test_trim_keeps_listed_operations_and_what_they_reference():
    out = trim.trim(DOC, [("GET", "/things/{id}")])
    assert list(out["paths"]) == ["/things/{id}"]
    item = out["paths"]["/things/{id}"]
    assert set(item) == {"parameters", "get"}  # the DELETE is not listed
    assert item["get"] == {
        "operationId": "getThing",
        "responses": {
            "200": {
                "description": "",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}},
            },
            "404": {"$ref": "#/components/responses/NotFound"},
        },
    }
    # followed transitively: Thing -> Part -> Base; the path-level parameter; the response
    assert out["components"] == {
        "parameters": {"Id": DOC["components"]["parameters"]["Id"]},
        "responses": {"NotFound": {"description": ""}},
        "schemas": {
            "Thing": {
                "type": "object",
                "required": ["description"],
                "properties": {
                    "description": {"type": "string"},
                    "example": {"type": "string"},
                    "x-custom": {"type": "string"},
                    "part": {"$ref": "#/components/schemas/Part"},
                    "state": {"type": "string", "enum": ["a", "b"], "default": "a"},
                    "extra": {"type": "object", "default": {"description": "literal"}},
                },
            },
            "Part": DOC["components"]["schemas"]["Part"],
            "Base": DOC["components"]["schemas"]["Base"],
        },
    }
    assert out["info"] == {"title": "T", "version": "1"}
    assert out["servers"] == [{"url": "https://{d}/wiki", "variables": {"d": {"default": "x"}}}]
    assert set(out) == {"openapi", "info", "servers", "paths", "components"}


def test_trim_refuses_an_operation_the_document_lacks():
    with pytest.raises(SystemExit, match=r"POST /things/\{id\}"):
        trim.trim(DOC, [("POST", "/things/{id}")])


def test_dump_is_deterministic():
    text = trim.dump(trim.trim(DOC, [("GET", "/other"), ("DELETE", "/things/{id}")]))
    assert text.endswith("}\n")
    assert json.loads(text)["paths"]["/other"]["get"]["operationId"] == "other"
    reordered = dict(reversed(list(DOC.items())))
    assert trim.dump(trim.trim(reordered, [("DELETE", "/things/{id}"), ("GET", "/other")])) == text


@pytest.mark.parametrize("name", sorted(trim.DOCUMENTS))
def test_committed_copy_is_what_trim_writes(name):
    """Trimming is idempotent, so the committed copy must be a fixed point: exactly the
    operations of operations.txt, stripped, in trim.py's byte layout."""
    filename = trim.DOCUMENTS[name][0]
    text = (TRIMMED_DIR / filename).read_text(encoding="utf-8")
    operations = trim.read_operations()[name]
    assert operations
    assert trim.dump(trim.trim(json.loads(text), operations)) == text


def test_main_regenerates_byte_for_byte(tmp_path, capsys):
    assert trim.main(["--from-dir", str(TRIMMED_DIR), "--out", str(tmp_path)]) == 0
    for filename, _url in trim.DOCUMENTS.values():
        assert (tmp_path / filename).read_bytes() == (TRIMMED_DIR / filename).read_bytes()
    assert trim.main(["--from-dir", str(TRIMMED_DIR), "--check"]) == 0
    (tmp_path / trim.DOCUMENTS["v1"][0]).write_text("{}\n")
    assert trim.main(["--from-dir", str(TRIMMED_DIR), "--out", str(tmp_path), "--check"]) == 1
    assert "out of date" in capsys.readouterr().err
