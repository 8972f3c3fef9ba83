"""Regenerate the trimmed Confluence Cloud OpenAPI documents in this folder.

Keeps the operations listed in ``operations.txt`` (with their path-level parameters) and every
``components`` entry they reference, directly or through other components; strips prose and
vendor noise (descriptions, summaries, examples, tags, security, ``x-*``). A property *named*
``description`` (or ``example``...) is kept: only keywords are stripped, never names.

    python tests/spec/trim.py                      # download Atlassian's published documents
    python tests/spec/trim.py --from-dir DIR       # DIR holds the two full documents
    python tests/spec/trim.py --v2 FILE --v1 FILE  # or name each file
    python tests/spec/trim.py --from-dir DIR --check   # exit 1 if the committed copy differs

Standard library only. Output: sorted keys, indent 1, trailing newline (byte-reproducible).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
#: name -> (file name, published URL), the same file names as the full documents.
DOCUMENTS = {
    "v2": (
        "confluence-openapi-v2.v3.json",
        "https://dac-static.atlassian.com/cloud/confluence/openapi-v2.v3.json",
    ),
    "v1": (
        "confluence-swagger-v1.v3.json",
        "https://dac-static.atlassian.com/cloud/confluence/swagger.v3.json",
    ),
}
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
#: Keywords dropped wherever they appear as a keyword (not as the name of a property).
STRIP = {"description", "summary", "example", "examples", "externalDocs", "tags", "security"}
#: Objects whose keys are names (of properties, schemas, media types, status codes...).
NAME_MAPS = {
    "properties",
    "patternProperties",
    "schemas",
    "parameters",
    "responses",
    "requestBodies",
    "headers",
    "content",
    "encoding",
    "variables",
    "links",
    "callbacks",
    "$defs",
    "definitions",
}
#: Literal values, copied as they are.
LITERALS = {"default", "enum", "const", "mapping"}
INFO_KEPT = ("title", "version", "termsOfService")


def read_operations(path: Path = HERE / "operations.txt") -> dict[str, list[tuple[str, str]]]:
    """``operations.txt``: ``[v2]``/``[v1]`` sections of ``METHOD /path/template`` lines."""
    ops: dict[str, list[tuple[str, str]]] = {name: [] for name in DOCUMENTS}
    section = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            if section not in ops:
                raise SystemExit(f"{path}:{number}: unknown section {line}")
            continue
        method, _, template = line.partition(" ")
        if section is None or not template.strip().startswith("/"):
            raise SystemExit(f"{path}:{number}: expected 'METHOD /path' under [v2] or [v1]")
        ops[section].append((method.upper(), template.strip()))
    return ops


def strip(node: Any, names: bool = False) -> Any:
    """``node`` without prose and noise; ``names`` is True when its keys are names."""
    if isinstance(node, list):
        return [strip(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if names:
            out[key] = strip(value)
        elif key in STRIP or key.startswith("x-"):
            continue
        elif key in LITERALS:
            out[key] = value
        else:
            out[key] = strip(value, names=key in NAME_MAPS and isinstance(value, dict))
    return out


def _refs(node: Any) -> set[str]:
    if isinstance(node, list):
        return set().union(*map(_refs, node))
    if not isinstance(node, dict):
        return set()
    found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
    return found.union(*map(_refs, node.values()))


def _component(ref: str) -> tuple[str, str]:
    parts = ref.split("/")
    if len(parts) != 4 or parts[:2] != ["#", "components"]:
        raise ValueError(f"unsupported $ref {ref!r}")
    return parts[2], parts[3].replace("~1", "/").replace("~0", "~")


def _describe_responses(responses: dict[str, Any]) -> None:
    """A response object must have a description (OpenAPI 3.0): give it an empty one."""
    for response in responses.values():
        if isinstance(response, dict) and "$ref" not in response:
            response["description"] = ""


def trim(doc: dict[str, Any], operations: list[tuple[str, str]]) -> dict[str, Any]:
    """The document reduced to ``operations`` (METHOD, path template) and what they use."""
    paths: dict[str, Any] = {}
    for method, template in operations:
        item = doc["paths"].get(template, {})
        op = item.get(method.lower())
        if method.lower() not in METHODS or op is None:
            raise SystemExit(f"{method} {template}: no such operation in the document")
        kept = paths.setdefault(template, {})
        if "parameters" in item:
            kept["parameters"] = strip(item["parameters"])
        kept[method.lower()] = strip(op)
        _describe_responses(kept[method.lower()].get("responses", {}))
    components: dict[str, dict[str, Any]] = {}
    todo = sorted(_refs(paths))
    while todo:
        kind, name = _component(todo.pop())
        if name in components.get(kind, {}):
            continue
        value = strip(doc["components"][kind][name])
        if kind == "responses":
            _describe_responses({name: value})
        components.setdefault(kind, {})[name] = value
        todo += sorted(_refs(value))
    out: dict[str, Any] = {
        "openapi": doc["openapi"],
        "info": {k: doc["info"][k] for k in INFO_KEPT if k in doc.get("info", {})},
        "paths": paths,
        "components": components,
    }
    if "servers" in doc:
        out["servers"] = strip(doc["servers"])
    return out


def dump(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=1, sort_keys=True) + "\n"


def _load(source: str) -> tuple[dict[str, Any], str]:
    """A full document from a URL or a file, and the sha256 of its bytes."""
    if source.startswith(("https://", "http://")):
        request = urllib.request.Request(source, headers={"User-Agent": "ctk-spec-trim"})
        with urllib.request.urlopen(request, timeout=60) as resp:
            data = resp.read()
    else:
        data = Path(source).read_bytes()
    return json.loads(data), hashlib.sha256(data).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from-dir", type=Path, help="folder holding both full documents")
    parser.add_argument("--v2", help="the full v2 document (file or URL)")
    parser.add_argument("--v1", help="the full v1 document (file or URL)")
    parser.add_argument("--out", type=Path, default=HERE, help="where to write (default: here)")
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    args = parser.parse_args(argv)
    operations = read_operations()
    stale = []
    for name, (filename, url) in DOCUMENTS.items():
        source = getattr(args, name) or (str(args.from_dir / filename) if args.from_dir else url)
        try:
            doc, digest = _load(source)
        except OSError as exc:  # URLError included
            raise SystemExit(f"cannot read {source}: {exc} (try --from-dir DIR)") from exc
        text = dump(trim(doc, operations[name]))
        target = args.out / filename
        print(f"{name}: {source} sha256 {digest}: {len(operations[name])} operations")
        if args.check:
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                stale.append(str(target))
        else:
            target.write_text(text, encoding="utf-8", newline="\n")
            print(f"  wrote {target} ({len(text.encode())} bytes)")
    if stale:
        print("out of date: " + ", ".join(stale), file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
