"""``ctk export`` of a generated 500-page space: throughput and requests per page.

A sandbox in this process (state in memory, the rate limiter off) gets a space of 500 pages in
a tree (10 top pages, each with 49 children), bodies of a few paragraphs with links to other
pages and a mention, and 20 attachments. The export runs in-process (``ctk export --space``
through Click's runner): a full export, an unchanged rerun, and a rerun after editing one page.
Prints a table; never asserts. Budget: a full export at >= 100 pages/s.

    python bench/export.py [--pages 500] [--attachments 20]
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time

from ctk_core.mirror.export import budget
from ctk_core.testing import CtkCli, running_sandbox

BUDGET = 100.0


def _body(n: int) -> str:
    return (
        f"<h2>Section {n}</h2><p>Paragraph with <strong>bold</strong> text and a link to "
        f'<ac:link><ri:page ri:content-title="Page {max(0, n - 1)}"/></ac:link>.</p>'
        '<p><ac:link><ri:user ri:account-id="557058:1a2b3c4d-5e6f-4a1b-9c2d-3e4f5a6b7c8d"/>'
        "</ac:link> owns this.</p><ul><li>one</li><li>two</li></ul>"
        '<ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[print(1)]]>'
        "</ac:plain-text-body></ac:structured-macro>"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--attachments", type=int, default=20)
    args = parser.parse_args()
    with running_sandbox(seed="demo") as sb:
        state = sb.state
        with state.lock:
            space = state.create_space("BENCH", "Bench")
            home = space["homepageId"]
            tops: list[str] = []
            for n in range(args.pages - 1):
                parent = home if n < 10 else tops[n % 10]
                page = state.create_page(space["id"], f"Page {n}", _body(n), parent_id=parent)
                if n < 10:
                    tops.append(page["id"])
            state.save()
        session = sb.session()
        for n in range(args.attachments):
            resp = session.put(
                f"{sb.wiki_url}/rest/api/content/{tops[n % 10]}/child/attachment",
                files={"file": (f"file-{n}.txt", b"x" * 2048, "text/plain")},
                headers={"X-Atlassian-Token": "nocheck"},
            )
            resp.raise_for_status()
        cli = CtkCli(sb, tempfile.mkdtemp())
        out = tempfile.mkdtemp() + "/export"
        rows = []
        for name in ("full", "unchanged", "one edit"):
            if name == "one edit":
                with state.lock:
                    page = state.pages[sb.page_id("Page 7", "BENCH")]
                    state.update_page(page, body="<p>edited</p>")
                    state.save()
            sb.requests.clear()
            start = time.perf_counter()
            result = cli("export", "--space", "BENCH", out, "--json")
            seconds = time.perf_counter() - start
            if result.exit_code != 0:
                raise SystemExit(result.stderr)
            sent = len(sb.requests.entries())
            rows.append((name, seconds, sent))
    n, a = args.pages, args.attachments
    print(f"ctk export of a generated space: {n} pages, {a} attachments, limiter off\n")
    print(f"{'run':<10} {'seconds':>8} {'pages/s':>9} {'requests':>9} {'req/page':>9}")
    for name, seconds, sent in rows:
        print(f"{name:<10} {seconds:8.2f} {n / seconds:9.0f} {sent:9d} {sent / n:9.3f}")
    full = rows[0]
    verdict = "ok" if n / full[1] >= BUDGET else "OVER BUDGET"
    print(f"\nfull export: {n / full[1]:.0f} pages/s (budget >= {BUDGET:.0f}): {verdict}")
    print(
        f"request budgets: full <= {budget(n, a)} "
        f"(pages of 25), unchanged <= {math.ceil(n / 100) + 4}"
    )


if __name__ == "__main__":
    main()
