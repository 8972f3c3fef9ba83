"""The export's foundations, without a site: slugs, layout, front matter, links, state."""

from __future__ import annotations

import os
import stat

import pytest

from ctk_core.errors import UsageError
from ctk_core.mirror import frontmatter, fsio, layout, links, slugs, state

# ------------------------------------------------------------------------------ slugs


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Release notes: Q3 (draft)", "release-notes-q3-draft"),
        ("  Ærø Café  ", "aero-cafe"),
        ("Straße", "strasse"),
        ("../../etc/passwd", "etc-passwd"),
        ("a/b\\c", "a-b-c"),
        ("..", "page"),
        (".", "page"),
        ("日本語", "page"),
        ("CON", "_con"),
        ("nul", "_nul"),
        ("Com1", "_com1"),
        ("LPT9", "_lpt9"),
        ("Index", "_index"),
        ("README", "_readme"),
        ("con-tact", "con-tact"),
    ],
)
def test_slugify(title, slug):
    assert slugs.slugify(title) == slug


def test_slugs_are_capped_and_never_end_in_a_hyphen():
    slug = slugs.slugify("word " * 40)
    assert len(slug) <= slugs.MAX_SLUG
    assert not slug.endswith("-")
    assert not slug.startswith("-")
    assert len(slugs.slugify("x" * 200)) == slugs.MAX_SLUG


def test_collisions_resolve_by_id_whatever_the_order():
    items = [("30", "setup"), ("4", "setup"), ("100", "setup")]
    expected = {"4": "setup", "30": "setup-2", "100": "setup-3"}
    assert slugs.assign(items) == expected
    assert slugs.assign(list(reversed(items))) == expected


def test_case_only_differences_collide():
    # Titles "Setup" and "SETUP" both slug to "setup"; attachment names compare without case.
    assert slugs.assign([("1", slugs.slugify("Setup")), ("2", slugs.slugify("SETUP"))]) == {
        "1": "setup",
        "2": "setup-2",
    }
    assert slugs.file_name("Diagram.PNG", taken=["diagram.png"]) == "diagram-2.png"


def test_a_title_that_looks_numbered_does_not_steal_a_suffix():
    got = slugs.assign([("1", "a"), ("2", "a"), ("3", "a-2")])
    assert sorted(got.values()) == ["a", "a-2", "a-3"]
    assert got["1"] == "a"


def test_previous_names_are_kept_so_a_new_sibling_renames_nothing():
    before = slugs.assign([("50", "notes")])
    assert before == {"50": "notes"}
    # A page with a lower id and the same title appears: the old one keeps its file.
    after = slugs.assign([("50", "notes"), ("7", "notes")], previous=before)
    assert after == {"50": "notes", "7": "notes-2"}
    # A previous name that no longer fits the title is not kept.
    renamed = slugs.assign([("50", "minutes")], previous=before)
    assert renamed == {"50": "minutes"}


def test_names_given_here_are_kept_and_unusable_ones_are_not():
    from ctk_core.mirror.state import ExportState

    st = ExportState(
        pages={
            "1": {"file": "a/My Notes.md", "title": "Notes"},
            "2": {"file": "a/b/index.md", "title": "B page"},
            "3": {"file": "a/.hidden.md", "title": "Hidden"},
            "4": {"file": "a/old-name.md", "title": "Old"},
        },
        folders={"5": {"dir": "a/Dir", "title": "Dir"}},
    )
    titles = {"1": "Notes", "2": "B page", "3": "Hidden", "4": "New", "5": "Dir"}
    assert st.kept_names(titles) == {"1": "My Notes", "2": "b", "5": "Dir"}
    got = slugs.assign([("1", "notes"), ("9", "my-notes")], kept={"1": "My Notes"})
    assert got == {"1": "My Notes", "9": "my-notes"}
    # a kept name another sibling already holds from the last run falls back to the title's slug
    got = slugs.assign([("1", "notes"), ("0", "x")], previous={"0": "x"}, kept={"1": "x", "0": "x"})
    assert got == {"0": "x", "1": "notes"}


def test_attachment_file_names():
    assert slugs.file_name("Q3 Plan (final).PDF") == "q3-plan-final.pdf"
    assert slugs.file_name("../x.png") == "x.png"
    assert slugs.file_name(".bashrc") == "bashrc"
    assert slugs.file_name("NUL.txt") == "_nul.txt"
    assert slugs.file_name("index.png") == "index.png"


# ------------------------------------------------------------------------------ layout


def _nodes():
    return [
        layout.Node("1", "page", "Home"),
        layout.Node("2", "page", "Guide", "1"),
        layout.Node("3", "folder", "Specs", "1"),
        layout.Node("4", "page", "API", "3"),
        layout.Node("5", "page", "Guide", "3"),
        layout.Node("6", "page", "Step one", "2"),
        layout.Node("7", "page", "Orphan", "999"),  # its parent is not exported: a root
    ]


def test_layout_mirrors_the_tree():
    placed = layout.place(_nodes())
    assert {i: p.path for i, p in placed.items()} == {
        "1": "home/index.md",
        "2": "home/guide/index.md",
        "3": "home/specs",
        "4": "home/specs/api.md",
        "5": "home/specs/guide.md",
        "6": "home/guide/step-one.md",
        "7": "orphan.md",
    }
    assert placed["1"].dir == "home"
    assert placed["6"].dir is None
    assert layout.assets_dir("home/index.md") == "home/index.assets"
    assert layout.assets_dir("home/specs/api.md") == "home/specs/api.assets"


def test_layout_never_gives_two_siblings_one_name():
    nodes = [layout.Node("1", "page", "Root")] + [
        layout.Node(str(n), "page", title, "1")
        for n, title in enumerate(["Same", "SAME", "same!", "Index", "con"], start=10)
    ]
    paths = [p.path for p in layout.place(nodes).values()]
    assert len({slugs.name_key(p) for p in paths}) == len(paths)
    assert "root/_index.md" in paths
    assert "root/_con.md" in paths
    assert "root/same.md" in paths
    assert "root/same-2.md" in paths
    assert "root/same-3.md" in paths


# ------------------------------------------------------------------------------ front matter


def test_front_matter_round_trip_keeps_the_order():
    meta = {
        "url": "https://x/wiki/spaces/D/pages/1",
        "id": "1",
        "title": "Colon: and 'quotes' and # hash",
        "labels": ["a", "b"],
        "version": 3,
        "extra": True,
    }
    text = frontmatter.render(meta, "# Body\n\ntext")
    assert text.startswith("---\nid: '1'\ntitle: ")
    keys = [line.split(":")[0] for line in text.split("---")[1].splitlines() if line[:1].isalpha()]
    assert keys == ["id", "title", "version", "labels", "url", "extra"]
    back, body = frontmatter.parse(text)
    assert back == meta
    assert body == "# Body\n\ntext\n"


def test_front_matter_absent_bad_and_unsafe():
    assert frontmatter.parse("# just text\n") == ({}, "# just text\n")
    with pytest.raises(UsageError, match="never closed"):
        frontmatter.parse("---\nid: 1\n")
    with pytest.raises(UsageError, match="not valid YAML"):
        frontmatter.parse("---\nid: [1\n---\n")
    with pytest.raises(UsageError, match="mapping"):
        frontmatter.parse("---\n- a\n---\n")
    with pytest.raises(UsageError, match="not valid YAML"):  # safe_load: no Python objects
        frontmatter.parse("---\nx: !!python/object/apply:os.system ['true']\n---\n")
    meta, body = frontmatter.parse("---\r\ntitle: T\r\n---\r\n\r\nbody\r\n")
    assert meta == {"title": "T"}
    assert body == "body\r\n"


# ------------------------------------------------------------------------------ links


def _index():
    return links.LinkIndex(
        space="DEMO",
        site="https://site.example",
        pages={
            "1": ("Home", "home/index.md"),
            "2": ("Setup guide", "home/setup-guide.md"),
            "3": ("100% done?", "home/specs/100-done.md"),
        },
        attachments={
            ("2", "diagram one.png"): "home/setup-guide.assets/diagram-one.png",
            ("1", "logo.svg"): "home/index.assets/logo.svg",
        },
        known={"Outside": "77"},
    )


def test_links_to_pages_and_attachments_become_relative():
    md = (
        "[Setup guide](<confluence-page:Setup guide#Install it>) "
        "![a](<confluence-attachment:diagram one.png?ac:width=400>) "
        "[logo](<confluence-attachment:Home/logo.svg>) "
        "[done](<confluence-page:100%25 done%3F>) "
        "<confluence-page:Home>\n"
    )
    out = links.to_relative(md, "home/setup-guide.md", "2", _index())
    assert out == (
        "[Setup guide](<setup-guide.md#Install it>) "
        "![a](setup-guide.assets/diagram-one.png?ac:width=400) "
        "[logo](index.assets/logo.svg) "
        "[done](specs/100-done.md) "
        "[Home](index.md)\n"
    )


def test_links_outside_the_export_stay_absolute():
    md = (
        "[o](<confluence-page:Not exported>) [t](<confluence-page://TEAM/Team home>) "
        "[f](<confluence-attachment:Outside/f.pdf>) [g](<confluence-attachment:Gone/g.pdf>) "
        "[x](https://example.com/a) [s](#section)\n"
    )
    out = links.to_relative(md, "home/index.md", "1", _index())
    assert out == (
        "[o](https://site.example/wiki/display/DEMO/Not%20exported) "
        "[t](https://site.example/wiki/display/TEAM/Team%20home) "
        "[f](https://site.example/wiki/download/attachments/77/f.pdf) "
        "[g](https://site.example/wiki/display/DEMO/Gone) "
        "[x](https://example.com/a) [s](#section)\n"
    )


def test_code_is_left_alone():
    link = "[a](confluence-page:Home)"
    md = f"`{link}`\n```\n{link}\n```\n{link}\n"
    out = links.to_relative(md, "x.md", "9", _index())
    assert (
        out
        == "`[a](confluence-page:Home)`\n```\n[a](confluence-page:Home)\n```\n[a](home/index.md)\n"
    )


def test_relative_paths_go_back_to_confluence_targets():
    ix = _index()
    here = "home/setup-guide.md"
    assert links.target_of("index.md", here, ix) == "confluence-page:Home"
    assert links.target_of(".", here, ix) == "confluence-page:Home"  # the folder's page
    assert links.target_of("home/", "other.md", ix) == "confluence-page:Home"
    assert links.target_of("specs/100-done.md#x", here, ix) == "confluence-page:100%25 done%3F#x"
    assert (
        links.target_of("setup-guide.assets/diagram-one.png?ac:width=400", here, ix)
        == "confluence-attachment:diagram one.png?ac:width=400"
    )
    assert (
        links.target_of("index.assets/logo.svg", here, ix) == "confluence-attachment:Home/logo.svg"
    )
    for foreign in (
        "https://x/y.md",
        "/abs.md",
        "#frag",
        "../../up.md",
        "missing.md",
        "mailto:a@b",
    ):
        assert links.target_of(foreign, here, ix) is None


def test_to_relative_then_back_is_the_identity_for_exported_targets():
    md = (
        "[Setup guide](<confluence-page:Setup guide#Install it>) and "
        "![a](<confluence-attachment:diagram one.png?ac:width=400>) and "
        "[logo](confluence-attachment:Home/logo.svg)\n"
    )
    ix = _index()
    there = links.to_relative(md, "home/setup-guide.md", "2", ix)
    assert links.to_confluence(there, "home/setup-guide.md", ix) == md


# ------------------------------------------------------------------------------ state and files


def test_state_round_trip_and_atomic_files(tmp_path):
    assert state.load(tmp_path) is None
    st = state.ExportState(site="https://s", space="DEMO", space_id="9")
    st.pages["1"] = {"version": 2, "file": "home/index.md", "slug": "home", "title": "Home"}
    st.folders["5"] = {"dir": "home/f", "slug": "f", "title": "F"}
    state.save(tmp_path, st)
    back = state.load(tmp_path)
    assert back == st
    assert back.slugs() == {"1": "home", "5": "f"}
    assert back.files() == {"home/index.md": "1"}
    assert [p.name for p in tmp_path.iterdir()] == [state.STATE_NAME]  # no temporary left
    mode = stat.S_IMODE(os.stat(tmp_path / state.STATE_NAME).st_mode)
    assert mode == fsio.user_mode()


def test_a_broken_state_file_is_refused(tmp_path):
    (tmp_path / state.STATE_NAME).write_text("{not json")
    with pytest.raises(UsageError, match="not a ctk export state file"):
        state.load(tmp_path)


def test_files_never_leave_the_export_folder(tmp_path):
    for bad in ("../x.md", "/etc/x", "a/../../x", "a\\b"):
        with pytest.raises(UsageError, match="leaves the export folder"):
            fsio.write_text(tmp_path, bad, "x")
    fsio.write_text(tmp_path, "a/b/c.md", "x")
    assert fsio.move(tmp_path, "a/b/c.md", "d/c.md")
    assert not (tmp_path / "a").exists()  # emptied folders go
    assert fsio.remove(tmp_path, "d/c.md")
    assert not (tmp_path / "d").exists()
