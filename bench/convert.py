"""Benchmark: storage <-> Markdown conversion speed (docs/architecture.md, Performance budget).

Budget: Markdown -> storage costs at most 1.3x the time of markdown-it-py's own parse of the
same Markdown, and 10x the input costs at most 12x the time, each way.

Pages of about 10 KB, 100 KB and 1 MB of storage are built deterministically:

* ``typical``: what documentation pages are mostly made of: sections of prose paragraphs with
  some inline formatting, links, mentions and code, plus lists, a table, a code block, a panel
  and a status here and there;
* ``dense``: the golden test fixtures (tests/data/convert) repeated, where nearly every line is
  a link, a macro, a table cell or raw storage (a worst case, not a typical page).

For each page the script converts storage -> Markdown and the resulting Markdown -> storage
and prints MB/s of input each way. It also times markdown-it-py's own parse of the same
Markdown (CommonMark with tables, strikethrough and raw HTML, without ctk's rules), under the
same conditions as the conversion (the cyclic garbage collector paused, see ``xhtml.no_gc``),
and prints the ratio of the Markdown -> storage time to it. Each time is the best CPU time of
several rounds, the three runs alternating within a round. The last columns are the time
ratios between the 1 MB and the 100 KB page (10x the input), each way.

    python bench/convert.py [--repeat N]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from markdown_it import MarkdownIt  # noqa: E402

from ctk_core.convert import markdown_to_storage, storage_to_markdown, xhtml  # noqa: E402

RATIO_BUDGET = 1.3
LINEARITY_BUDGET = 12.0

_VOCABULARY = (
    "the service stores each revision of a document and the agent uploads changes in small "
    "batches so that a slow network never blocks the editor while the queue keeps order and "
    "retries failed uploads with a backoff configuration files live next to the workspace "
    "and every team owns its own space with pages for design notes runbooks and decisions"
)
WORDS = _VOCABULARY.split()


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 18))]
    roll = rng.random()
    i = rng.randrange(len(words))
    if roll < 0.15:
        words[i] = f"<strong>{words[i]}</strong>"
    elif roll < 0.25:
        words[i] = f"<em>{words[i]}</em>"
    elif roll < 0.35:
        words[i] = f"<code>{words[i]}_id</code>"
    elif roll < 0.42:
        words[i] = f'<a href="https://docs.example.com/{words[i]}">{words[i]}</a>'
    elif roll < 0.47:
        words[i] = f'<ac:link><ri:page ri:content-title="{words[i].title()} guide" /></ac:link>'
    elif roll < 0.50:
        words[i] = '<ac:link><ri:user ri:account-id="557058:3f1e2d4c-5b6a-4789" /></ac:link>'
    return " ".join(words).capitalize() + "."


def _paragraph(rng: random.Random) -> str:
    return "<p>" + " ".join(_sentence(rng) for _ in range(rng.randint(2, 5))) + "</p>"


def _section(rng: random.Random, n: int) -> str:
    parts = [f"<h2>Section {n}: {rng.choice(WORDS)} {rng.choice(WORDS)}</h2>"]
    parts += [_paragraph(rng) for _ in range(rng.randint(2, 5))]
    roll = rng.random()
    if roll < 0.5:
        parts.append(
            "<ul>"
            + "".join(f"<li><p>{_sentence(rng)}</p></li>" for _ in range(rng.randint(3, 6)))
            + "</ul>"
        )
    elif roll < 0.7:
        parts.append(
            "<ol>"
            + "".join(f"<li>{_sentence(rng)}</li>" for _ in range(rng.randint(3, 5)))
            + "</ol>"
        )
    roll = rng.random()
    if roll < 0.25:
        rows = "".join(
            f"<tr><td><p>{rng.choice(WORDS)}</p></td><td><p>{rng.randint(1, 99)}</p>"
            f"</td><td><p>{_sentence(rng)}</p></td></tr>"
            for _ in range(4)
        )
        parts.append(
            "<table><tbody><tr><th><p><strong>Name</strong></p></th><th><p><strong>"
            "Value</strong></p></th><th><p><strong>Notes</strong></p></th></tr>"
            + rows
            + "</tbody></table>"
        )
    elif roll < 0.45:
        body = "\n".join(
            f"    {rng.choice(WORDS)} = {rng.randint(0, 999)}  # {rng.choice(WORDS)}"
            for _ in range(rng.randint(4, 10))
        )
        parts.append(
            '<ac:structured-macro ac:name="code" ac:schema-version="1" ac:macro-id='
            '"0d3e6b1a-2c4f"><ac:parameter ac:name="language">python</ac:parameter>'
            f"<ac:plain-text-body><![CDATA[def run():\n{body}]]></ac:plain-text-body>"
            "</ac:structured-macro>"
        )
    elif roll < 0.55:
        parts.append(
            '<ac:structured-macro ac:name="info" ac:schema-version="1"><ac:rich-text-'
            f"body>{_paragraph(rng)}</ac:rich-text-body></ac:structured-macro>"
        )
    elif roll < 0.6:
        parts.append(
            '<p>Status: <ac:structured-macro ac:name="status" ac:schema-version="1">'
            '<ac:parameter ac:name="colour">Green</ac:parameter><ac:parameter '
            'ac:name="title">Done</ac:parameter></ac:structured-macro></p>'
        )
    return "".join(parts)


def typical_page(size: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    parts = ["<h1>Typical page</h1>", _paragraph(rng)]
    total = sum(map(len, parts))
    n = 1
    while total < size:
        part = _section(rng, n)
        parts.append(part)
        total += len(part)
        n += 1
    return "".join(parts)


def dense_page(size: int) -> str:
    units = [
        p.read_text(encoding="utf-8")
        for p in sorted((ROOT / "tests" / "data" / "convert").glob("*.xml"))
        if not p.name.endswith(".back.xml")
    ]
    parts: list[str] = []
    total = 0
    i = 0
    while total < size:
        parts.append(units[i % len(units)])
        total += len(parts[-1])
        i += 1
    return "".join(parts)


def _best(runs: list[tuple[Callable[[str], object], str]], repeat: int) -> list[float]:
    """Best CPU time of this process of each run over ``repeat`` rounds (other load on the
    machine does not count; the conversion is single-threaded, so on a quiet machine this is
    the wall time). The runs alternate within a round, so that load that slows the machine
    for a while slows them all alike."""
    best = [float("inf")] * len(runs)
    for _ in range(repeat):
        for i, (func, arg) in enumerate(runs):
            start = time.process_time()
            func(arg)
            best[i] = min(best[i], time.process_time() - start)
    return best


def markdown_it_parse() -> Callable[[str], object]:
    """markdown-it-py's own parse, configured like ctk's parser but without ctk's rules."""
    md = MarkdownIt("commonmark", {"html": True, "maxNesting": 100})
    md.enable(["table", "strikethrough"])
    md.parse("# warm-up *x* <u>y</u>\n\n- z\n", {})

    def parse(text: str) -> object:
        with xhtml.no_gc():
            return md.parse(text, {})

    return parse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="runs per 1 MB case, more for smaller pages (best is kept)",
    )
    args = parser.parse_args()
    parse = markdown_it_parse()
    sizes = [("10 KB", 10_000), ("100 KB", 100_000), ("1 MB", 1_000_000)]
    header = (
        f"{'page':8} {'size':>6} {'storage':>9} {'markdown':>9} | {'storage->md':>12} "
        f"{'md->storage':>12} | {'markdown-it':>12} {'ratio':>6} | {'10x: s->m':>9} "
        f"{'m->s':>6}"
    )
    print(header)
    print("-" * len(header))
    worst_ratio = 0.0
    worst_linearity = 0.0
    for kind, build in (("typical", typical_page), ("dense", dense_page)):
        times: dict[str, tuple[float, float]] = {}
        for label, size in sizes:
            storage = build(size)
            md = storage_to_markdown(storage)
            repeat = args.repeat * max(1, 1_000_000 // size // 10)
            t_md, t_st, t_parse = _best(
                [(storage_to_markdown, storage), (markdown_to_storage, md), (parse, md)], repeat
            )
            times[label] = (t_md, t_st)
            ratio = t_st / t_parse
            worst_ratio = max(worst_ratio, ratio)
            linearity = ""
            if label == "1 MB":
                r1 = t_md / times["100 KB"][0]
                r2 = t_st / times["100 KB"][1]
                worst_linearity = max(worst_linearity, r1, r2)
                linearity = f"{r1:8.1f}x {r2:5.1f}x"
            print(
                f"{kind:8} {label:>6} {len(storage) / 1e3:7.0f}KB {len(md) / 1e3:7.0f}KB | "
                f"{len(storage) / t_md / 1e6:7.2f} MB/s {len(md) / t_st / 1e6:7.2f} MB/s | "
                f"{len(md) / t_parse / 1e6:7.2f} MB/s {ratio:5.2f}x | {linearity}"
            )
    print(
        "\nMB/s is of the input each way (markdown-it: of the Markdown it parses); ratio is "
        "md->storage time / markdown-it-py's own parse of the same Markdown."
    )
    print(
        f"Worst ratio {worst_ratio:.2f}x (budget {RATIO_BUDGET}x); worst 10x-input cost "
        f"{worst_linearity:.1f}x (budget {LINEARITY_BUDGET:.0f}x)."
    )


if __name__ == "__main__":
    main()
