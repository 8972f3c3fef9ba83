"""The sandbox seeds: ``demo`` (a small but realistic site) and ``empty`` (no spaces).

``seed(state, name)`` fills a fresh ``State``. The demo data is created in a fixed order, so its
ids are the same on every run; ``demo_ids()`` names them (``demo_ids()["page:Architecture"]``),
and ``page_id(state, title)`` / ``space_id(state, key)`` look them up in a live state.

The demo site: space DEMO (home page and a tree of 18 pages three levels below it, one native
folder holding two pages), storage bodies with headings, nested and numbered lists, tables,
code macros, info/note/warning panels, page links, an image, user mentions and a macro ctk does
not know (jira, roadmap); labels; footer comments with replies; an open and a resolved inline
comment; a text and a PNG attachment; a page with four versions; three users; two page
templates (one with variables) and a global one; a restricted page whose child inherits its read
restriction; and a small space TEAM.
"""

from __future__ import annotations

import functools
import re
import struct
import zlib
from datetime import datetime, timedelta, timezone
from typing import Any

from ctk_core.sandbox.routes_attachments import create_attachment
from ctk_core.sandbox.routes_comments import create_comment
from ctk_core.sandbox.routes_labels import add_label
from ctk_core.sandbox.routes_restrictions import restrict
from ctk_core.sandbox.routes_templates import add_template
from ctk_core.sandbox.state import State

SEEDS = ("demo", "empty")

#: The three demo users; the first one is the current user (the one any credentials log in as).
USERS = (
    ("557058:0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b", "Alex Morgan", "alex.morgan@example.com"),
    ("557058:1a2b3c4d-5e6f-4a1b-9c2d-3e4f5a6b7c8d", "Priya Natarajan", "priya@example.com"),
    ("5b10ac8d82e05b22cc7d4ef5", "Sam O'Connor", "sam.oconnor@example.com"),
)
CURRENT_USER = USERS[0][0]
PRIYA = USERS[1][0]
SAM = USERS[2][0]

#: Inline comment marker refs used in the "Data Model" body.
OPEN_MARKER = "9d2f6a1e-3b4c-4d5e-8f60-7a1b2c3d4e5f"
RESOLVED_MARKER = "1c7e5b3a-2d4f-4a6b-9c8d-0e1f2a3b4c5d"

T0 = datetime(2024, 1, 8, 9, 0, tzinfo=timezone.utc)


def _at(days: float, hours: float = 0) -> str:
    return _iso(T0 + timedelta(days=days, hours=hours))


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _ago(days: float) -> str:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    return _iso(now - timedelta(days=days))


# ------------------------------------------------------------------------------ bytes


def png_bytes(width: int = 96, height: int = 64) -> bytes:
    """A valid RGB PNG: three boxes joined by a line (an "architecture diagram")."""
    boxes = [(6, 22, 30, 42), (36, 22, 60, 42), (66, 22, 90, 42)]
    colours = [(0, 82, 204), (54, 179, 126), (255, 171, 0)]
    rows = []
    for y in range(height):
        row = bytearray([0])  # filter type 0 for every scanline
        for x in range(width):
            pixel = (255, 255, 255)
            if y == 32 and 6 <= x <= 90:
                pixel = (80, 80, 80)
            for (x0, y0, x1, y1), colour in zip(boxes, colours, strict=True):
                if x0 <= x <= x1 and y0 <= y <= y1:
                    pixel = colour
            row.extend(pixel)
        rows.append(bytes(row))

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


NOTES_TXT = (
    b"Sandbox release checklist\n"
    b"=========================\n"
    b"1. Run the test suite (tox).\n"
    b"2. Update the release notes page.\n"
    b"3. Tag the release and announce it in #releases.\n"
)


# ------------------------------------------------------------------------------ bodies


def _link(title: str, text: str | None = None) -> str:
    inner = f"<ac:plain-text-link-body><![CDATA[{text}]]></ac:plain-text-link-body>" if text else ""
    return f'<ac:link><ri:page ri:content-title="{title}" />{inner}</ac:link>'


def _mention(account_id: str) -> str:
    return f'<ac:link><ri:user ri:account-id="{account_id}" /></ac:link>'


def _code(language: str, code: str) -> str:
    return (
        f'<ac:structured-macro ac:name="code" ac:schema-version="1" ac:macro-id='
        f'"{zlib.crc32(code.encode()):08x}-code"><ac:parameter ac:name="language">{language}'
        f"</ac:parameter><ac:plain-text-body><![CDATA[{code}]]></ac:plain-text-body>"
        f"</ac:structured-macro>"
    )


def _panel(kind: str, body: str, title: str | None = None) -> str:
    param = f'<ac:parameter ac:name="title">{title}</ac:parameter>' if title else ""
    return (
        f'<ac:structured-macro ac:name="{kind}" ac:schema-version="1">{param}'
        f"<ac:rich-text-body>{body}</ac:rich-text-body></ac:structured-macro>"
    )


HOME_BODY = (
    "<h1>Welcome to the Demo Space</h1>"
    "<p>This space is the <strong>ctk sandbox</strong> demo: a small documentation site for an "
    "imaginary product called <em>Nimbus</em>.</p>"
    + _panel(
        "info",
        "<p>Everything here is sample data. Feel free to edit, move and delete "
        "pages: a restart brings the demo back.</p>",
    )
    + "<h2>Where to start</h2><ul>"
    f"<li>{_link('Getting Started')} explains installation and configuration.</li>"
    f"<li>{_link('Architecture', 'The architecture overview')} shows how Nimbus is built.</li>"
    f"<li>{_link('Release Notes')} lists what changed in each release.</li></ul>"
)

GETTING_STARTED_BODY = (
    "<h1>Getting Started</h1>"
    "<p>Nimbus is a sync service for team documents. This guide takes you from zero to a "
    "running installation in about ten minutes.</p>"
    "<h2>Before you begin</h2><ol>"
    "<li>Check the system requirements<ol><li>Python 3.10 or newer</li>"
    "<li>2 GB of free disk space</li></ol></li>"
    "<li>Create an API token</li>"
    "<li>Choose a workspace folder</li></ol>"
    "<h2>Next steps</h2><ul><li>Read "
    + _link("Installation")
    + " for your platform<ul><li>"
    + _link("Installing on Linux")
    + "</li><li>"
    + _link("Installing on macOS")
    + "</li></ul></li><li>Tune the settings in "
    + _link("Configuration")
    + "</li></ul>"
    + "<p>The checklist we use before each release is attached: "
    '<ac:link><ri:attachment ri:filename="notes.txt" /></ac:link>.</p>'
)

INSTALLATION_BODY = (
    "<h1>Installation</h1>"
    "<p>Install the Nimbus client with pip, then check that the command works.</p>"
    + _code("bash", "python -m pip install nimbus-client\nnimbus --version")
    + _panel(
        "note",
        "<p>Use a virtual environment so the client does not clash with system packages.</p>",
        title="Virtual environments",
    )
    + "<h2>Platforms</h2><p>Platform-specific steps live on the child pages.</p>"
)

LINUX_BODY = (
    "<h1>Installing on Linux</h1><ol><li>Install the system packages:"
    + _code("bash", "sudo apt-get install -y python3-venv libffi-dev")
    + "</li><li>Create a virtual environment and install the client.</li>"
    "<li>Enable the systemd unit so the sync agent starts at boot.</li></ol>"
    + _code(
        "ini",
        "[Unit]\nDescription=Nimbus sync agent\n\n[Service]\n"
        "ExecStart=/usr/local/bin/nimbus agent\nRestart=on-failure",
    )
)

MACOS_BODY = (
    "<h1>Installing on macOS</h1><p>Homebrew is the easiest way on macOS:</p>"
    + _code("bash", "brew install nimbus")
    + _panel("warning", "<p>The Apple Silicon build needs macOS 13 or newer.</p>")
)

CONFIGURATION_BODY = (
    "<h1>Configuration</h1><p>Nimbus reads <code>~/.config/nimbus/config.toml</code> and then "
    "the environment.</p>"
    "<table><tbody><tr><th>Setting</th><th>Default</th><th>Description</th></tr>"
    "<tr><td><code>sync.interval</code></td><td>30</td><td>Seconds between sync rounds</td></tr>"
    "<tr><td><code>sync.workers</code></td><td>4</td><td>Parallel uploads</td></tr>"
    "<tr><td><code>log.level</code></td><td>info</td><td>debug, info, warning or error</td></tr>"
    "</tbody></table>"
    + _panel(
        "warning",
        "<p>Never commit <code>config.toml</code>: it holds your API token.</p>",
        title="Secrets",
    )
    + _code("toml", '[sync]\ninterval = 30\nworkers = 4\n\n[log]\nlevel = "info"')
)

ENV_BODY = (
    "<h1>Environment Variables</h1><p>Every setting can be overridden from the environment.</p>"
    "<table><tbody><tr><th>Variable</th><th>Overrides</th></tr>"
    "<tr><td><code>NIMBUS_SYNC_INTERVAL</code></td><td><code>sync.interval</code></td></tr>"
    "<tr><td><code>NIMBUS_LOG_LEVEL</code></td><td><code>log.level</code></td></tr>"
    "</tbody></table>"
)

ARCHITECTURE_VERSIONS = (
    ("Architecture (draft)", "<h1>Architecture</h1><p>Draft: to be written.</p>", ""),
    (
        "Architecture",
        "<h1>Architecture</h1><p>Nimbus has three parts: the client, the sync "
        "agent and the storage service.</p>",
        "First real content",
    ),
    (
        "Architecture",
        "<h1>Architecture</h1><p>Nimbus has three parts: the client, the sync "
        "agent and the storage service.</p><h2>Components</h2><ul><li>Client</li>"
        "<li>Sync agent</li><li>Storage service</li></ul>",
        "List the components",
    ),
)

ARCHITECTURE_BODY = (
    "<h1>Architecture</h1><p>Nimbus has three parts: the client, the sync agent and the "
    "storage service. The diagram shows how they talk to each other.</p>"
    '<ac:image ac:width="480" ac:alt="Architecture diagram"><ri:attachment '
    'ri:filename="diagram.png" /></ac:image>'
    "<h2>Components</h2><ol><li><strong>Client</strong>: the command line tool.</li>"
    "<li><strong>Sync agent</strong>: watches folders and uploads changes.<ul>"
    "<li>Batches small files</li><li>Retries with backoff</li></ul></li>"
    "<li><strong>Storage service</strong>: keeps every version of every document.</li></ol>"
    "<p>See "
    + _link("Data Model")
    + " and "
    + _link("API Design")
    + " for details.</p>"
    + _panel("info", "<p>Owner: " + _mention(PRIYA) + "</p>")
)

DATA_MODEL_BODY = (
    "<h1>Data Model</h1><p>Every document is stored as a chain of "
    f'<ac:inline-comment-marker ac:ref="{OPEN_MARKER}">immutable revisions'
    "</ac:inline-comment-marker>"
    ", each pointing at its parent revision.</p>"
    "<table><tbody><tr><th>Entity</th><th>Key</th><th>Notes</th></tr>"
    "<tr><td>Document</td><td>doc_id</td><td>Stable across renames</td></tr>"
    "<tr><td>Revision</td><td>rev_id</td><td>Content hash of the bytes</td></tr>"
    "<tr><td>Workspace</td><td>ws_id</td><td>Owns documents</td></tr></tbody></table>"
    f'<p>Revisions are <ac:inline-comment-marker ac:ref="{RESOLVED_MARKER}">garbage collected'
    "</ac:inline-comment-marker> after 90 days unless pinned.</p>"
)

API_BODY = (
    "<h1>API Design</h1><p>The storage service speaks JSON over HTTPS.</p>"
    "<h2>Endpoints</h2><ul><li><code>GET /documents/{id}</code></li>"
    "<li><code>PUT /documents/{id}</code></li><li><code>GET /documents/{id}/revisions</code>"
    "</li></ul>"
    + _code(
        "python",
        'import requests\n\nresp = requests.get(\n    "https://nimbus.example.com/'
        'documents/42",\n    headers={"Authorization": "Bearer TOKEN"},\n    timeout=10,\n)\n'
        'resp.raise_for_status()\nprint(resp.json()["title"])',
    )
    + _panel("note", "<p>Pagination uses opaque cursors, like Confluence.</p>")
)

RELEASE_NOTES_BODY = (
    "<h1>Release Notes</h1><p>One child page per release.</p>"
    '<ac:structured-macro ac:name="children" ac:schema-version="2">'
    '<ac:parameter ac:name="sort">title</ac:parameter></ac:structured-macro>'
)

RELEASE_10_BODY = (
    "<h1>Release 1.0</h1><p>The first public release.</p><h2>Highlights</h2><ul>"
    "<li>Two-way sync for folders</li><li>Version history</li></ul>"
)

RELEASE_11_BODY = (
    "<h1>Release 1.1</h1><p>Faster uploads and a new roadmap.</p>"
    '<ac:structured-macro ac:name="jira" ac:schema-version="1">'
    '<ac:parameter ac:name="server">System JIRA</ac:parameter>'
    '<ac:parameter ac:name="jqlQuery">project = NIM AND fixVersion = 1.1</ac:parameter>'
    "</ac:structured-macro>"
    '<ac:structured-macro ac:name="roadmap" ac:schema-version="1">'
    '<ac:parameter ac:name="source">%7B%22title%22%3A%22Nimbus%202024%22%7D</ac:parameter>'
    "</ac:structured-macro>"
    "<h2>Fixed</h2><ol><li>Uploads of files over 2 GB</li><li>Sync loop on renamed "
    "folders</li></ol>"
)

PLANNING_BODY = (
    "<h1>Planning meeting</h1><p><strong>Date:</strong> 2024-01-15</p>"
    "<h2>Attendees</h2><ul><li>"
    + _mention(CURRENT_USER)
    + "</li><li>"
    + _mention(PRIYA)
    + "</li><li>"
    + _mention(SAM)
    + "</li></ul>"
    "<h2>Action items</h2><ac:task-list><ac:task><ac:task-id>1</ac:task-id>"
    "<ac:task-status>incomplete</ac:task-status><ac:task-body>"
    + _mention(SAM)
    + " drafts the 1.1 scope</ac:task-body></ac:task></ac:task-list>"
)

RETRO_BODY = (
    "<h1>Retrospective</h1><table><tbody><tr><th>Went well</th><th>To improve</th></tr>"
    "<tr><td>Release 1.0 shipped on time</td><td>Flaky upload tests</td></tr></tbody></table>"
)

HANDBOOK_BODY = "<h1>Team Handbook</h1><p>How the Nimbus team works.</p>" + _panel(
    "tip", "<p>New here? Start with " + _link("Code Review Guidelines") + ".</p>"
)

REVIEW_BODY = (
    "<h1>Code Review Guidelines</h1><ol><li>Keep changes small<ol><li>Under 400 lines</li>"
    "<li>One topic per change</li></ol></li><li>Write tests first</li>"
    "<li>Be kind in comments</li></ol>"
)

ONCALL_BODY = (
    "<h1>On-call Rotation</h1><p>The on-call engineer this week is "
    + _mention(PRIYA)
    + ".</p>"
    + _panel("warning", "<p>Page the on-call engineer only for production incidents.</p>")
)

TEAM_HOME_BODY = "<h1>Team Space</h1><p>Goals and onboarding for the Nimbus team.</p>"
TEAM_GOALS_BODY = (
    "<h1>Team Goals</h1><ol><li>Ship release 1.2 in the second quarter</li>"
    "<li>Cut sync latency in half</li></ol>"
)
ONBOARDING_BODY = (
    "<h1>Onboarding Checklist</h1><ul><li>Get a laptop</li><li>Read the "
    "handbook</li><li>Pair with a buddy for a week</li></ul>"
)


MEETING_TEMPLATE_BODY = (
    '<at:declarations><at:string at:name="date" /><at:string at:name="facilitator" />'
    "</at:declarations>"
    '<h2>Meeting on <at:var at:name="date" /></h2>'
    '<p>Facilitator: <at:var at:name="facilitator" /></p>'
    "<h3>Agenda</h3><ul><li><p>Topic</p></li></ul>"
    "<h3>Actions</h3><ac:task-list><ac:task><ac:task-status>incomplete</ac:task-status>"
    "<ac:task-body>Action</ac:task-body></ac:task></ac:task-list>"
)
HOWTO_TEMPLATE_BODY = "<h2>Steps</h2><ol><li><p>First step</p></li></ol><h2>See also</h2>"
DECISION_TEMPLATE_BODY = (
    "<table><tbody><tr><th>Status</th><td>Proposed</td></tr>"
    "<tr><th>Decision</th><td></td></tr></tbody></table>"
)
SECURITY_BODY = "<h2>Findings</h2><p>Restricted to the security reviewers.</p>"


# ------------------------------------------------------------------------------ seeding


def seed(state: State, name: str = "demo") -> None:
    """Fill ``state`` with the named seed: "demo" (default) or "empty" (users only)."""
    if name not in SEEDS:
        raise ValueError(f"unknown seed {name!r}; expected one of {', '.join(SEEDS)}")
    _users(state)
    if name == "demo":
        _demo(state)


def _users(state: State) -> None:
    for account_id, display, email in USERS:
        state.create_user(display, email, account_id=account_id)
    state.current_user = CURRENT_USER


def _demo(state: State) -> None:
    demo = state.create_space(
        "DEMO",
        "Demo Space",
        "The ctk sandbox demo space.",
        author=CURRENT_USER,
        created_at=_at(0),
        homepage_body=HOME_BODY,
    )
    sid = demo["id"]
    home = demo["homepageId"]

    def page(
        title: str, body: str, parent: str | None, day: float, author: str = CURRENT_USER
    ) -> str:
        return str(
            state.create_page(
                sid, title, body, parent_id=parent or home, author=author, created_at=_at(day)
            )["id"]
        )

    getting = page("Getting Started", GETTING_STARTED_BODY, None, 1)
    install = page("Installation", INSTALLATION_BODY, getting, 2)
    page("Installing on Linux", LINUX_BODY, install, 3, author=SAM)
    page("Installing on macOS", MACOS_BODY, install, 3.5, author=SAM)
    config = page("Configuration", CONFIGURATION_BODY, getting, 4)
    page("Environment Variables", ENV_BODY, config, 5, author=PRIYA)

    first_title, first_body, _ = ARCHITECTURE_VERSIONS[0]
    arch = page(first_title, first_body, None, 6, author=PRIYA)
    arch_page = state.pages[arch]
    for i, (title, body, message) in enumerate(ARCHITECTURE_VERSIONS[1:], start=1):
        state.update_page(
            arch_page,
            title=title,
            body=body,
            message=message,
            author=PRIYA if i == 1 else CURRENT_USER,
            created_at=_at(6 + 7 * i),
        )
    state.update_page(
        arch_page,
        title="Architecture",
        body=ARCHITECTURE_BODY,
        message="Add the diagram",
        author=CURRENT_USER,
        created_at=_ago(1),
    )
    data_model = page("Data Model", DATA_MODEL_BODY, arch, 8, author=PRIYA)
    page("API Design", API_BODY, arch, 9)

    notes = page("Release Notes", RELEASE_NOTES_BODY, None, 10)
    release10 = page("Release 1.0", RELEASE_10_BODY, notes, 11)
    release11 = str(
        state.create_page(
            sid, "Release 1.1", RELEASE_11_BODY, parent_id=notes, author=SAM, created_at=_ago(3)
        )["id"]
    )

    folder = state.create_folder(
        sid, "Meeting Notes", parent_id=home, author=CURRENT_USER, created_at=_at(7)
    )
    planning = page("2024-01-15 Planning", PLANNING_BODY, folder["id"], 7)
    retro = page("2024-02-12 Retrospective", RETRO_BODY, folder["id"], 35, author=PRIYA)

    handbook = page("Team Handbook", HANDBOOK_BODY, None, 12)
    page("Code Review Guidelines", REVIEW_BODY, handbook, 13, author=SAM)
    page("On-call Rotation", ONCALL_BODY, handbook, 14, author=PRIYA)

    for pid, names in (
        (getting, ("getting-started", "guide")),
        (install, ("guide", "install")),
        (config, ("guide", "configuration")),
        (arch, ("architecture", "design")),
        (data_model, ("architecture",)),
        (release10, ("release-notes",)),
        (release11, ("release-notes",)),
        (planning, ("meeting-notes",)),
        (retro, ("meeting-notes",)),
    ):
        for label in names:
            add_label(state, pid, label)

    create_attachment(
        state,
        arch,
        "diagram.png",
        png_bytes(),
        media_type="image/png",
        comment="Architecture diagram",
        author=PRIYA,
        created_at=_at(20),
    )
    create_attachment(
        state,
        getting,
        "notes.txt",
        NOTES_TXT,
        media_type="text/plain",
        comment="Release checklist",
        author=CURRENT_USER,
        created_at=_at(21),
    )

    question = create_comment(
        state,
        "footer",
        page_id=getting,
        author=PRIYA,
        body="<p>Should we mention the Windows installer here?</p>",
        created_at=_at(22),
    )
    create_comment(
        state,
        "footer",
        parent_id=question["id"],
        author=CURRENT_USER,
        body="<p>Yes, once it is out of beta. I will add a section.</p>",
        created_at=_at(22, 2),
    )
    create_comment(
        state,
        "footer",
        parent_id=question["id"],
        author=SAM,
        body="<p>I can write it: I built the installer.</p>",
        created_at=_at(23),
    )
    create_comment(
        state,
        "footer",
        page_id=arch,
        author=SAM,
        body="<p>Great diagram! Can we add the queue between the agent and the "
        "storage service?</p>",
        created_at=_at(24),
    )

    open_comment = create_comment(
        state,
        "inline",
        page_id=data_model,
        author=SAM,
        created_at=_at(25),
        body="<p>Are revisions really immutable once the hash is computed?</p>",
        marker_ref=OPEN_MARKER,
        selection="immutable revisions",
    )
    create_comment(
        state,
        "inline",
        parent_id=open_comment["id"],
        author=PRIYA,
        body="<p>Yes: a change always makes a new revision.</p>",
        created_at=_at(26),
    )
    resolved = create_comment(
        state,
        "inline",
        page_id=data_model,
        author=CURRENT_USER,
        created_at=_at(25, 3),
        body="<p>Is 90 days still the retention period?</p>",
        marker_ref=RESOLVED_MARKER,
        selection="garbage collected",
    )
    resolved.update(
        {
            "resolutionStatus": "resolved",
            "resolutionLastModifierId": PRIYA,
            "resolutionLastModifiedAt": _at(27),
        }
    )

    team = state.create_space(
        "TEAM",
        "Team Space",
        "Goals and onboarding for the team.",
        author=PRIYA,
        created_at=_at(15),
        homepage_body=TEAM_HOME_BODY,
    )
    goals = state.create_page(
        team["id"], "Team Goals", TEAM_GOALS_BODY, author=PRIYA, created_at=_at(16)
    )
    state.create_page(
        team["id"], "Onboarding Checklist", ONBOARDING_BODY, author=SAM, created_at=_at(17)
    )
    add_label(state, goals["id"], "team")
    _templates_and_restrictions(state, sid, home)
    _nested_reply(state, question["id"])


def _nested_reply(state: State, question_id: str) -> None:
    """A reply to a reply (created last, so the ids of everything above stay as they were)."""
    first_reply = min(
        (c for c in state.comments.values() if c["parentCommentId"] == question_id),
        key=lambda c: int(c["id"]),
    )
    create_comment(
        state,
        "footer",
        parent_id=first_reply["id"],
        author=PRIYA,
        body="<p>Thanks! " + _mention(SAM) + " offered to write it, see below.</p>",
        created_at=_at(22, 3),
    )


def _templates_and_restrictions(state: State, space_id: str, home: str) -> None:
    """Page templates (two in DEMO, one with variables; one global) and a restricted page
    (read: Priya and the group engineering; edit: Priya) whose child inherits the read
    restriction."""
    add_template(
        state,
        "Meeting notes",
        MEETING_TEMPLATE_BODY,
        space_key="DEMO",
        description="Date, facilitator, agenda and actions.",
        labels=("meeting-notes",),
    )
    add_template(state, "How-to article", HOWTO_TEMPLATE_BODY, space_key="DEMO")
    add_template(state, "Decision record", DECISION_TEMPLATE_BODY, description="One decision.")
    secret = state.create_page(
        space_id, "Security Review", SECURITY_BODY, parent_id=home, author=PRIYA, created_at=_at(30)
    )
    restrict(state, secret["id"], "read", users=(PRIYA,), groups=("engineering",))
    restrict(state, secret["id"], "update", users=(PRIYA,))
    state.create_page(
        space_id,
        "Incident Runbook",
        "<p>What to do when an alert fires.</p>",
        parent_id=secret["id"],
        author=PRIYA,
        created_at=_at(31),
    )


# ------------------------------------------------------------------------------ lookups


def space_id(state: State, key: str) -> str:
    """The id of the space with this key (KeyError when there is none)."""
    space = state.space_by_key(key)
    if space is None:
        raise KeyError(key)
    return str(space["id"])


def page_id(state: State, title: str, space_key: str | None = None) -> str:
    """The id of the (first) page with this title, optionally in one space."""
    wanted = space_id(state, space_key) if space_key else None
    for page in state.pages.values():
        if page["title"] == title and (wanted is None or page["spaceId"] == wanted):
            return str(page["id"])
    raise KeyError(title)


@functools.lru_cache(maxsize=1)
def demo_ids() -> dict[str, str]:
    """Stable ids of the demo data: ``space:DEMO``, ``page:<title>``, ``folder:<title>``,
    ``comment:<first words>``, ``attachment:<file name>``, ``label:<name>``, ``user:<name>``,
    ``template:<name>``."""
    state = State()
    seed(state, "demo")
    out: dict[str, str] = {}
    for space in state.spaces.values():
        out[f"space:{space['key']}"] = space["id"]
    for kind, coll in (("page", state.pages), ("folder", state.folders)):
        for item in coll.values():
            out.setdefault(f"{kind}:{item['title']}", item["id"])
    for comment in state.comments.values():
        out[f"comment:{_first_words(comment['body'])}"] = comment["id"]
    for att in state.attachments.values():
        out[f"attachment:{att['title']}"] = att["id"]
    for label in state.labels.values():
        out[f"label:{label['name']}"] = label["id"]
    for account_id, display, _ in USERS:
        out[f"user:{display}"] = account_id
    for template in (state.meta.get("templates") or {}).values():
        out[f"template:{template['name']}"] = template["templateId"]
    return out


def _first_words(body: Any, count: int = 4) -> str:
    text = re.sub(r"<[^>]+>", " ", str(body))
    return " ".join(text.split()[:count])
