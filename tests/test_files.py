"""ctk_core.files: private folders, 0600 files, safe names, atomic writes, upload confinement."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctk_core import files
from ctk_core.errors import PolicyError, UsageError


@pytest.fixture(autouse=True)
def fresh_folder_cache(monkeypatch):
    monkeypatch.setattr(files, "_checked", {})


def mode_of(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


# --- private folders --------------------------------------------------------------------------


def test_log_dir_created_private(tmp_path, monkeypatch):
    target = tmp_path / "logs"
    monkeypatch.setenv("CTK_LOG_DIR", str(target))
    old = os.umask(0o022)
    try:
        got = files.log_dir()
    finally:
        os.umask(old)
    assert got == target
    assert mode_of(target) == 0o700


def test_download_dir_from_environ_mapping(tmp_path):
    target = tmp_path / "dl"
    got = files.download_dir({"CTK_DOWNLOAD_DIR": str(target)})
    assert got == target
    assert target.is_dir()
    assert mode_of(target) == 0o700


def test_defaults_are_tmp_folders():
    assert files.DEFAULT_LOG_DIR == "/tmp/ctk-logs"
    assert files.DEFAULT_DOWNLOAD_DIR == "/tmp/ctk-downloads"


def test_an_existing_own_folder_is_used_and_made_private(tmp_path):
    target = tmp_path / "mine"
    target.mkdir(mode=0o755)
    os.chmod(target, 0o755)
    assert files.private_folder(target, "logs") == target
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o700


def test_symlinked_folder_falls_back(tmp_path, caplog):
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    link = tmp_path / "link"
    link.symlink_to(real)
    with caplog.at_level("WARNING", logger="ctk.files"):
        got = files.private_folder(link, "logs")
    assert got not in (link, real)
    assert got.is_dir()
    assert mode_of(got) == 0o700
    assert "symbolic link" in caplog.text
    assert str(link) in caplog.text


def test_group_writable_folder_falls_back(tmp_path, caplog):
    target = tmp_path / "shared"
    target.mkdir()
    os.chmod(target, 0o770)
    with caplog.at_level("WARNING", logger="ctk.files"):
        got = files.private_folder(target, "downloads")
    assert got != target
    assert mode_of(got) == 0o700
    assert "writable by group or others" in caplog.text


def test_world_writable_folder_falls_back(tmp_path):
    target = tmp_path / "open"
    target.mkdir()
    os.chmod(target, 0o777)
    assert files.private_folder(target, "logs") != target


def test_file_instead_of_folder_falls_back(tmp_path):
    target = tmp_path / "afile"
    target.write_text("x")
    got = files.private_folder(target, "logs")
    assert got != target
    assert got.is_dir()


def test_foreign_owner_folder_falls_back(tmp_path, caplog):
    if os.getuid() == 0:
        # root can hand a folder to another user (nobody), as a pre-planted /tmp/ctk-logs would be
        target = tmp_path / "theirs"
        target.mkdir(mode=0o700)
        os.chown(target, 65534, 65534)
    else:
        target = Path("/")  # belongs to root, not to us
    assert "another user" in (files.folder_problem(target) or "")
    with caplog.at_level("WARNING", logger="ctk.files"):
        got = files.private_folder(target, "logs")
    assert got != target
    assert mode_of(got) == 0o700
    assert "another user" in caplog.text


def test_fallback_is_chosen_once_per_process(tmp_path):
    target = tmp_path / "shared"
    target.mkdir()
    os.chmod(target, 0o777)
    first = files.private_folder(target, "logs")
    assert files.private_folder(target, "logs") == first


# --- private files ----------------------------------------------------------------------------


def test_save_full_result_is_private_and_unpredictable(tmp_path, monkeypatch):
    monkeypatch.setenv("CTK_LOG_DIR", str(tmp_path / "logs"))
    p1 = files.save_full_result('{"a":1}')
    p2 = files.save_full_result('{"a":2}')
    assert p1 != p2
    assert Path(p1).parent == tmp_path / "logs"
    assert mode_of(p1) == 0o600
    assert json.loads(Path(p2).read_text()) == {"a": 2}
    # 16 hex characters of randomness in each name
    assert len(Path(p1).name) > len("result-YYYYmmdd-HHMMSS-.json") + 15


def test_create_private_file_never_follows_a_planted_symlink(tmp_path, monkeypatch):
    victim = tmp_path / "victim"
    victim.write_text("keep")
    names = iter(["aaaa", "bbbb"])
    monkeypatch.setattr(files, "random_suffix", lambda: next(names))
    (tmp_path / "x-aaaa").symlink_to(victim)
    fd, path = files.create_private_file(tmp_path, "x-")
    os.close(fd)
    assert path.name == "x-bbbb"
    assert victim.read_text() == "keep"
    assert mode_of(path) == 0o600


# --- safe names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "_._etc_passwd"),
        ("a/b\\c.txt", "a_b_c.txt"),
        ("..", "attachment"),
        ("...hidden", "hidden"),
        (".bashrc", "bashrc"),
        ("nul\x00byte.txt", "nul_byte.txt"),
        ("bell\x07\nnew\rline.txt", "bellnewline.txt"),
        ("", "attachment"),
        (None, "attachment"),
        ("   ", "attachment"),
        ("dots..in..middle.txt", "dots.in.middle.txt"),
        ("caf\u00e9 \u2014 notes.md", "caf\u00e9 \u2014 notes.md"),
    ],
)
def test_safe_filename(title, expected):
    assert files.safe_filename(title) == expected


def test_safe_filename_caps_length_keeping_extension():
    name = files.safe_filename("x" * 300 + ".pdf")
    assert len(name.encode()) <= 255
    assert name.endswith(".pdf")
    wide = files.safe_filename("\u00e9" * 300 + ".docx")
    assert len(wide.encode()) <= 255
    assert wide.endswith(".docx")
    wide.encode("utf-8").decode("utf-8")  # not cut inside a character


@given(st.text(max_size=400))
def test_safe_filename_is_always_a_plain_name(title):
    name = files.safe_filename(title)
    assert name
    assert "/" not in name
    assert "\\" not in name
    assert "\x00" not in name
    assert ".." not in name
    assert not name.startswith(".")
    assert len(name.encode("utf-8")) <= 255
    assert all(ord(c) >= 32 and c != "\x7f" for c in name)
    assert os.path.basename(name) == name


def test_unique_destination(tmp_path):
    assert files.unique_destination(tmp_path, "a.txt") == tmp_path / "a.txt"
    (tmp_path / "a.txt").write_text("1")
    assert files.unique_destination(tmp_path, "a.txt") == tmp_path / "a-1.txt"
    (tmp_path / "a-1.txt").write_text("2")
    assert files.unique_destination(tmp_path, "a.txt") == tmp_path / "a-2.txt"
    assert files.unique_destination(tmp_path, "a.txt", overwrite=True) == tmp_path / "a.txt"
    assert files.unique_destination(tmp_path, "../x/y") == tmp_path / "_x_y"
    (tmp_path / "noext").write_text("3")
    assert files.unique_destination(tmp_path, "noext") == tmp_path / "noext-1"


def test_unique_destination_counts_dangling_symlinks_as_taken(tmp_path):
    (tmp_path / "f.bin").symlink_to(tmp_path / "missing")
    assert files.unique_destination(tmp_path, "f.bin") == tmp_path / "f-1.bin"


# --- atomic writer ----------------------------------------------------------------------------


def test_atomic_writer_success(tmp_path):
    dest = tmp_path / "out.bin"
    with files.atomic_writer(dest) as fh:
        fh.write(b"abc")
        assert not dest.exists()  # nothing at the destination until complete
    assert dest.read_bytes() == b"abc"
    assert mode_of(dest) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_atomic_writer_failure_leaves_nothing(tmp_path):
    dest = tmp_path / "out.bin"

    def write_then_drop():
        with files.atomic_writer(dest) as fh:
            fh.write(b"partial")
            raise ConnectionError("dropped")

    with pytest.raises(ConnectionError):
        write_then_drop()
    assert list(tmp_path.iterdir()) == []


def test_atomic_writer_does_not_overwrite_unless_asked(tmp_path):
    dest = tmp_path / "out.bin"
    dest.write_bytes(b"old")
    with pytest.raises(UsageError, match="already exists"), files.atomic_writer(dest) as fh:
        fh.write(b"new")
    assert dest.read_bytes() == b"old"
    with files.atomic_writer(dest, overwrite=True) as fh:
        fh.write(b"new")
    assert dest.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


def test_atomic_writer_refuses_file_appearing_meanwhile(tmp_path):
    dest = tmp_path / "race.bin"

    def write_while_another_writes():
        with files.atomic_writer(dest) as fh:
            fh.write(b"mine")
            dest.write_bytes(b"theirs")

    with pytest.raises(UsageError):
        write_while_another_writes()
    assert dest.read_bytes() == b"theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["race.bin"]


def test_atomic_writer_mode(tmp_path):
    dest = tmp_path / "shared.txt"
    with files.atomic_writer(dest, mode=0o644) as fh:
        fh.write(b"x")
    assert mode_of(dest) == 0o644


# --- upload confinement -----------------------------------------------------------------------


@pytest.fixture
def upload_tree(tmp_path, monkeypatch):
    root = tmp_path / "work"
    root.mkdir()
    (root / "doc.txt").write_text("hello")
    (root / "sub").mkdir()
    (root / "sub" / "deep.txt").write_text("deep")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("no")
    monkeypatch.chdir(root)
    return root, outside


def test_upload_inside_cwd_is_allowed(upload_tree):
    root, _ = upload_tree
    assert files.resolve_upload_path("doc.txt") == root / "doc.txt"
    assert files.resolve_upload_path(str(root / "sub" / "deep.txt")) == root / "sub" / "deep.txt"
    assert files.resolve_upload_path("sub/../doc.txt") == root / "doc.txt"


def test_upload_dotdot_escape_refused(upload_tree):
    with pytest.raises(PolicyError, match="outside the allowed upload roots"):
        files.resolve_upload_path("../outside/secret.txt")


def test_upload_absolute_outside_refused(upload_tree):
    _, outside = upload_tree
    with pytest.raises(PolicyError, match="CTK_UPLOAD_ROOTS"):
        files.resolve_upload_path(str(outside / "secret.txt"))
    with pytest.raises(PolicyError):
        files.resolve_upload_path("/etc/passwd")


def test_upload_symlink_pointing_out_refused(upload_tree):
    root, outside = upload_tree
    (root / "innocent.txt").symlink_to(outside / "secret.txt")
    (root / "dirlink").symlink_to(outside)
    with pytest.raises(PolicyError, match="resolves to"):
        files.resolve_upload_path("innocent.txt")
    with pytest.raises(PolicyError):
        files.resolve_upload_path("dirlink/secret.txt")


def test_upload_symlink_pointing_in_allowed(upload_tree):
    root, _ = upload_tree
    (root / "alias.txt").symlink_to(root / "doc.txt")
    assert files.resolve_upload_path("alias.txt") == root / "doc.txt"


def test_upload_roots_from_environment(upload_tree, monkeypatch):
    _root, outside = upload_tree
    monkeypatch.setenv("CTK_UPLOAD_ROOTS", f"{outside}{os.pathsep}")
    assert files.resolve_upload_path(str(outside / "secret.txt")) == outside / "secret.txt"
    with pytest.raises(PolicyError):
        files.resolve_upload_path("doc.txt")  # cwd is no longer a root
    assert files.upload_roots() == [outside]


def test_upload_root_prefix_is_not_containment(tmp_path):
    (tmp_path / "work").mkdir()
    (tmp_path / "work-evil").mkdir()
    (tmp_path / "work-evil" / "f").write_text("x")
    with pytest.raises(PolicyError):
        files.resolve_upload_path(str(tmp_path / "work-evil" / "f"), roots=[tmp_path / "work"])


def test_upload_credentials_file_always_refused(tmp_path, monkeypatch):
    home = Path(os.environ["HOME"])
    cfg = home / ".config" / "ctk"
    cfg.mkdir(parents=True)
    creds = cfg / "credentials.json"
    creds.write_text('{"api_token": "x"}')
    monkeypatch.chdir(home)
    # even when the roots explicitly include the config folder or the whole home
    for roots in (None, [home], [cfg]):
        with pytest.raises(PolicyError, match="config folder"):
            files.resolve_upload_path(str(creds), roots=roots)
    (home / "link.json").symlink_to(creds)
    with pytest.raises(PolicyError, match="config folder"):
        files.resolve_upload_path("link.json")


def test_upload_ctk_config_dir_override_refused(tmp_path, monkeypatch):
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "credentials.json").write_text("{}")
    monkeypatch.setenv("CTK_CONFIG_DIR", str(cfg))
    with pytest.raises(PolicyError, match="config folder"):
        files.resolve_upload_path(str(cfg / "credentials.json"), roots=[tmp_path])


def test_upload_missing_and_non_regular(upload_tree):
    with pytest.raises(UsageError, match="No such file"):
        files.resolve_upload_path("missing.txt")
    with pytest.raises(UsageError, match="regular file"):
        files.resolve_upload_path("sub")
    with pytest.raises(UsageError):
        files.resolve_upload_path("bad\x00name")
    with pytest.raises(PolicyError):
        files.resolve_upload_path("/dev/zero")


def test_open_upload_reads_the_file(upload_tree):
    fh, real = files.open_upload("doc.txt")
    with fh:
        assert fh.read() == b"hello"
    assert real.name == "doc.txt"
