"""Safe, stable file names from page titles.

A slug is lower-case ASCII letters, digits and single hyphens, at most :data:`MAX_SLUG`
characters: the same on every run and every operating system (no case-only differences, which
case-insensitive file systems would merge; no Unicode, which macOS stores decomposed; never
``.`` or ``..``, no separators). Names Windows reserves (``con``, ``nul``, ``com1``...) and the
names the layout itself uses (``index``, ``readme``) get a leading ``_``, which no plain slug
has. Siblings with the same slug are told apart by ``-2``, ``-3``... in a deterministic order:
a name kept from the previous run first, then by id.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

__all__ = [
    "MAX_SLUG",
    "RESERVED",
    "assign",
    "file_name",
    "id_order",
    "name_key",
    "slugify",
]

#: Longest slug, in characters (a deep tree must still fit the 260 of old Windows paths).
MAX_SLUG = 60
#: Names no file may take: Windows' device names, and the layout's own ``index``/``readme``.
RESERVED = frozenset(
    {"con", "prn", "aux", "nul", "index", "readme"}
    | {f"com{n}" for n in range(10)}
    | {f"lpt{n}" for n in range(10)}
)
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_SUFFIX = re.compile(r"^(?P<base>.+)-(?P<n>[0-9]+)$")


def slugify(title: str | None, fallback: str = "page") -> str:
    """``"Release notes: Q3 (draft)"`` -> ``"release-notes-q3-draft"``; ``fallback`` when
    nothing of the title is left (a title in another script, only punctuation)."""
    text = unicodedata.normalize("NFKD", str(title or ""))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.lower().replace("ß", "ss").replace("æ", "ae").replace("ø", "o")
    text = text.replace("œ", "oe").replace("ł", "l").replace("đ", "d")
    text = text.encode("ascii", "ignore").decode("ascii")
    slug = _NOT_ALNUM.sub("-", text).strip("-")
    if len(slug) > MAX_SLUG:
        cut = slug[:MAX_SLUG]
        slug = cut.rsplit("-", 1)[0] if "-" in cut[MAX_SLUG // 2 :] else cut
        slug = slug.strip("-")
    if not slug:
        slug = _NOT_ALNUM.sub("-", fallback.lower()).strip("-") or "page"
    if slug in RESERVED:
        slug = "_" + slug
    return slug


def name_key(name: str) -> str:
    """What makes two names the same file on some system: case and Unicode form."""
    return unicodedata.normalize("NFC", name).casefold()


def assign(
    items: Iterable[tuple[str, str]],
    previous: Mapping[str, str] | None = None,
    taken: Iterable[str] = (),
    kept: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Unique slugs for siblings: ``items`` are ``(id, base slug)``; returns ``{id: slug}``.

    An item keeps its ``previous`` slug when that is still its base slug or a numbered form of
    it and no one else claimed it first; then each free base slug goes to the first item (by id,
    numeric ids by value) that has it; the rest get the first free ``base-2``, ``base-3``...
    ``taken`` names are never given out. A ``kept`` name (one given here, see
    :meth:`ctk_core.mirror.state.ExportState.kept_names`) stays like a previous one, whatever
    the base slug. The result depends only on the arguments, never on
    their order.
    """
    prev = previous or {}
    used = {name_key(t) for t in taken}
    ordered = sorted(items, key=lambda item: (id_order(item[0]), item[1]))
    out: dict[str, str] = {}
    keep = kept or {}
    for ident, base in ordered:  # names from the last run, when still right, come first
        for old, right in ((keep.get(ident), True), (prev.get(ident), False)):
            if old and (right or _fits(old, base)) and name_key(old) not in used:
                out[ident] = old
                used.add(name_key(old))
                break
    for ident, base in ordered:  # then each plain slug to the first (by id) that wants it
        if ident not in out and name_key(base) not in used:
            out[ident] = base
            used.add(name_key(base))
    for ident, base in ordered:
        if ident in out:
            continue
        candidate, n = base, 1
        while name_key(candidate) in used:
            n += 1
            candidate = f"{base}-{n}"
        out[ident] = candidate
        used.add(name_key(candidate))
    return out


def file_name(name: str, taken: Iterable[str] = ()) -> str:
    """A safe, unique file name for an attachment among ``taken`` (compared without case):
    its own name made safe (no separators, controls, leading dots, reserved device names), with
    ``-2``, ``-3``... before the extension when taken."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    safe_ext = _NOT_ALNUM.sub("", ext.lower())[:16]
    safe_stem = slugify(stem, "file")
    if safe_stem.startswith("_") and safe_stem[1:] in ("index", "readme"):
        safe_stem = safe_stem[1:]  # index.png is a fine attachment name
    tail = f".{safe_ext}" if safe_ext else ""
    used = {name_key(t) for t in taken}
    candidate, n = safe_stem + tail, 1
    while name_key(candidate) in used:
        n += 1
        candidate = f"{safe_stem}-{n}{tail}"
    return candidate


def _fits(old: str, base: str) -> bool:
    if old == base:
        return True
    match = _SUFFIX.match(old)
    return bool(match and match.group("base") == base and int(match.group("n")) >= 2)


def id_order(ident: str) -> tuple[int, int, str]:
    """The sort key of an id: numeric ones by number (any length), before any other."""
    return (0, int(ident), "") if ident.isdigit() else (1, 0, ident)
