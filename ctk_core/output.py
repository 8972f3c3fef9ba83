"""How the CLI prints results: tables, key/value views, Markdown as-is, or JSON.

``--json`` prints exactly the structure the MCP tool returns (indented on a terminal, compact
otherwise); everything else is for people. tabulate is imported only when a table is printed.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from typing import IO, Any

#: Table cells longer than this are cut (the full value is in --json).
MAX_CELL = 60
#: At most this many inferred columns.
MAX_COLUMNS = 6


#: C0 and C1 control characters, DEL included; tab and newline are kept where lines are kept.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_OR_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str, keep_lines: bool = True) -> str:
    """``text`` with control characters shown as ``\\xNN``, so that data from Confluence cannot
    drive the terminal (retitle it, write the clipboard, move the cursor). Tab and newline stay
    when ``keep_lines``."""
    pattern = _CONTROL if keep_lines else _CONTROL_OR_LINE
    return pattern.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def write_text(text: str, out: IO[str] | None = None) -> None:
    """Write human text and a newline; on a terminal, control characters are escaped."""
    out = out or sys.stdout
    out.write((printable(text) if _isatty(out) else text) + "\n")


def to_json(result: Any, pretty: bool = False) -> str:
    if pretty:
        return json.dumps(result, ensure_ascii=False, indent=2)
    return json.dumps(result, ensure_ascii=False, separators=(",", ":"))


def is_page(result: Any) -> bool:
    """A list result: ``{"results": [...], "next_cursor": ...}``."""
    return isinstance(result, dict) and isinstance(result.get("results"), list)


def more_hint(result: Any) -> str | None:
    """The stderr line saying that a list result has more pages (None when it has not)."""
    if is_page(result) and result.get("next_cursor"):
        return f"More results: add --cursor {result['next_cursor']} (or --all for all)."
    return None


def render(result: Any, columns: Sequence[str] = ()) -> str:
    """Human text for a result (no trailing newline)."""
    if result is None:
        return ""
    if isinstance(result, str):
        return result.rstrip("\n")
    if is_page(result):
        return render_list(result["results"], columns)
    if isinstance(result, list):
        return render_list(result, columns)
    if isinstance(result, dict):
        return key_values(result)
    return _cell(result, limit=None)


def render_list(items: list[Any], columns: Sequence[str] = ()) -> str:
    if not items:
        return ""
    if all(isinstance(i, dict) for i in items):
        return table(items, columns)
    return "\n".join(_cell(i, limit=None) for i in items)


def infer_columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Keys with short scalar values, in order of first appearance."""
    cols: list[str] = []
    for row in rows:
        for key, value in row.items():
            if key in cols or isinstance(value, (dict, list)):
                continue
            if isinstance(value, str) and "\n" in value:
                continue
            cols.append(key)
    return cols[:MAX_COLUMNS]


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str] = ()) -> str:
    from tabulate import tabulate

    cols = list(columns) or infer_columns(rows)
    body = [[_cell(row.get(c)) for c in cols] for row in rows]
    return str(tabulate(body, headers=cols, tablefmt="simple", disable_numparse=True))


def key_values(obj: dict[str, Any]) -> str:
    """Aligned ``key  value`` lines; multi-line text (a page body) follows after a blank line."""
    short = {k: v for k, v in obj.items() if not (isinstance(v, str) and "\n" in v)}
    long = {k: v for k, v in obj.items() if k not in short}
    width = max((len(k) for k in short), default=0)
    lines = [f"{k.ljust(width)}  {_cell(v, limit=None)}".rstrip() for k, v in short.items()]
    for value in long.values():
        lines.append("")
        lines.append(value.rstrip("\n"))
    return "\n".join(lines)


def _cell(value: Any, limit: int | None = MAX_CELL) -> str:
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value):
        text = ", ".join(_cell(v, limit=None) for v in value)
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    else:
        text = str(value)
    text = printable(text, keep_lines=limit is None)
    if limit is not None:
        text = " ".join(text.split())
        if len(text) > limit:
            text = text[: limit - 1] + "\u2026"
    return text


def emit(
    result: Any,
    as_json: bool = False,
    columns: Sequence[str] = (),
    out: IO[str] | None = None,
    err: IO[str] | None = None,
) -> None:
    """Print one result, and on stderr a hint when a list has more pages."""
    out = out or sys.stdout
    err = err or sys.stderr
    if as_json:
        out.write(to_json(result, pretty=_isatty(out)) + "\n")
        return
    text = render(result, columns)
    if text:
        write_text(text, out)
    elif is_page(result) or result == []:
        err.write("No results.\n")
    hint = more_hint(result)
    if hint:
        err.write(hint + "\n")


class PageStream:
    """Prints the pages of ``--all`` in the same shape as one result.

    JSON: one ``{"results": [...], "next_cursor": null}`` document written item by item as the
    pages come. A table is drawn once, at the end, so that every column fits its longest cell
    (a later page may hold a longer title than the first); plain values stream.
    """

    def __init__(
        self, as_json: bool, columns: Sequence[str] = (), out: IO[str] | None = None
    ) -> None:
        self.as_json = as_json
        self.columns = list(columns)
        self.out = out or sys.stdout
        self.pretty = _isatty(self.out)
        self.count = 0
        self.rows: list[dict[str, Any]] = []
        self.scalars = False

    def add(self, items: list[Any]) -> None:
        if self.as_json:
            self._add_json(items)
        elif items:
            self._add_text(items)
        self.count += len(items)
        self.out.flush()

    def _add_json(self, items: list[Any]) -> None:
        for i, item in enumerate(items):
            first = self.count == 0 and i == 0
            if self.pretty:
                text = json.dumps(item, ensure_ascii=False, indent=2).replace("\n", "\n    ")
                prefix = '{\n  "results": [\n    ' if first else ",\n    "
            else:
                text = to_json(item)
                prefix = '{"results":[' if first else ","
            self.out.write(prefix + text)

    def _add_text(self, items: list[Any]) -> None:
        if self.count == 0 and not all(isinstance(i, dict) for i in items):
            self.scalars = True
        if self.scalars:
            self.out.write("\n".join(_cell(i, limit=None) for i in items) + "\n")
        else:
            self.rows.extend(items)

    def close(self) -> None:
        if self.as_json:
            if self.count == 0:
                self.out.write(to_json({"results": [], "next_cursor": None}, self.pretty))
            elif self.pretty:
                self.out.write('\n  ],\n  "next_cursor": null\n}')
            else:
                self.out.write('],"next_cursor":null}')
            self.out.write("\n")
        elif self.count == 0:
            sys.stderr.write("No results.\n")
        elif self.rows:
            self.out.write(table(self.rows, self.columns) + "\n")
        self.out.flush()


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


__all__ = [
    "PageStream",
    "emit",
    "infer_columns",
    "key_values",
    "more_hint",
    "render",
    "table",
    "to_json",
]
