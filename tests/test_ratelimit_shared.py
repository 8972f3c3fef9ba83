"""The rate budget is the user's: one bucket per site in a state file, shared by every ctk process
(CLI runs, MCP servers), updated under an OS file lock; reservations of several tokens; a state
file with bad content or a loose mode; the embedded sandbox without a limiter unless asked.

Real processes, real files, the sandbox over real HTTP. Budgets use long periods (5/3600: a token
back every 12 minutes), so "exactly the budget" holds however slow the machine is.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest

from ctk_core.errors import RateLimited
from ctk_core.ratelimit import (
    FileStore,
    TokenBucket,
    limiter_from_environment,
    site_key,
    state_folder,
    state_path,
)


class FakeClock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def state_file(tmp_path):
    return tmp_path / "run" / "ctk" / "ratelimit-test"


def shared_bucket(path, clock, capacity=20, period=60.0) -> TokenBucket:
    """A bucket on the state file, as one process would have it."""
    return TokenBucket(capacity, period, clock=clock, sleep=clock.sleep, store=FileStore(path))


# --- one bucket in a file ---------------------------------------------------------------------


def test_two_buckets_on_one_file_share_the_tokens(state_file):
    clock = FakeClock()
    one, two = shared_bucket(state_file, clock), shared_bucket(state_file, clock)
    for _ in range(10):
        one.try_acquire()
        two.try_acquire()
    with pytest.raises(RateLimited) as info:
        one.try_acquire()
    assert "shared by your ctk processes for this site" in str(info.value)
    assert info.value.retry_after == pytest.approx(3.0)
    clock.now += 3.0
    two.try_acquire()  # the refill is the file's, seen by both
    with pytest.raises(RateLimited):
        one.try_acquire()


def test_the_file_and_its_folder_are_private(state_file):
    shared_bucket(state_file, FakeClock()).try_acquire()
    assert stat.S_IMODE(os.stat(state_file).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(state_file.parent).st_mode) == 0o700
    assert state_file.read_bytes().startswith(b"ctk-ratelimit-1 19.")


def test_loose_modes_are_tightened(state_file):
    bucket = shared_bucket(state_file, FakeClock())
    bucket.try_acquire()
    os.chmod(state_file, 0o666)
    os.chmod(state_file.parent, 0o755)
    again = shared_bucket(state_file, FakeClock())  # a new process checks the folder again
    again.try_acquire()
    assert stat.S_IMODE(os.stat(state_file).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(state_file.parent).st_mode) == 0o700
    assert again.available() == pytest.approx(18.0)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"garbage",
        b"ctk-ratelimit-1 nan 5\n",
        b"ctk-ratelimit-1 -4 5\n",
        b"ctk-ratelimit-1 1e400 1\n",
        b"\x00\xff" * 3000,
        b"ctk-ratelimit-9 3 5\n",
    ],
)
def test_bad_content_is_a_full_bucket_and_is_rewritten(state_file, content):
    state_file.parent.mkdir(parents=True, mode=0o700)
    state_file.write_bytes(content)
    clock = FakeClock()
    bucket = shared_bucket(state_file, clock)
    bucket.try_acquire()
    assert bucket.available() == pytest.approx(19.0)
    assert state_file.read_bytes() == b"ctk-ratelimit-1 19.000000000 %.6f\n" % clock.now


def test_more_tokens_than_the_capacity_are_cut_down(state_file):
    """Another process with a larger CTK_RATE_LIMIT wrote the file: this one's capacity holds."""
    clock = FakeClock()
    shared_bucket(state_file, clock, capacity=100).available()
    small = shared_bucket(state_file, clock, capacity=5)
    assert small.available() == pytest.approx(5.0)


def test_a_symlink_in_place_of_the_file_is_replaced(state_file, tmp_path):
    target = tmp_path / "elsewhere"
    target.write_bytes(b"keep me")
    state_file.parent.mkdir(parents=True, mode=0o700)
    state_file.symlink_to(target)
    shared_bucket(state_file, FakeClock()).try_acquire()
    assert target.read_bytes() == b"keep me"
    assert not state_file.is_symlink()
    assert state_file.read_bytes().startswith(b"ctk-ratelimit-1 ")


def test_an_unusable_state_falls_back_to_a_bucket_of_its_own(state_file, capfd):
    state_file.mkdir(parents=True)  # a folder where the file should be
    clock = FakeClock()
    bucket = shared_bucket(state_file, clock, capacity=2)
    bucket.try_acquire()
    bucket.try_acquire()
    with pytest.raises(RateLimited):
        bucket.try_acquire()
    err = capfd.readouterr().err
    assert err.count("ctk: warning: the rate limit state") == 1
    assert "this process keeps its own bucket" in err
    assert not bucket.shared


def test_a_symlinked_folder_is_not_used(tmp_path, capfd):
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(real)
    bucket = shared_bucket(tmp_path / "link" / "ratelimit-x", FakeClock())
    bucket.try_acquire()
    assert list(real.iterdir()) == []
    assert "cannot be used" in capfd.readouterr().err


def test_a_clock_gone_backwards_never_sticks(state_file):
    clock = FakeClock()
    bucket = shared_bucket(state_file, clock, capacity=2, period=2)
    bucket.try_acquire()
    bucket.try_acquire()
    clock.now -= 3600  # the wall clock was put back an hour
    with pytest.raises(RateLimited) as info:
        bucket.try_acquire()
    assert info.value.retry_after == pytest.approx(1.0)  # not an hour
    clock.now += 1.0
    bucket.try_acquire()


# --- reservations: k tokens or none -----------------------------------------------------------


def test_reserving_several_takes_all_or_none(state_file):
    clock = FakeClock()
    bucket = shared_bucket(state_file, clock)
    for _ in range(17):
        bucket.try_acquire()
    with pytest.raises(RateLimited) as info:
        bucket.try_acquire(5)
    err = info.value
    assert "needs 5 requests and 3 are available, so nothing was sent" in str(err)
    assert "all 5 are possible in 6.0 s" in str(err)
    assert err.retry_after == pytest.approx(6.0)
    assert bucket.available() == pytest.approx(3.0)  # nothing taken
    bucket.try_acquire(3)
    assert bucket.available() == pytest.approx(0.0)


def test_reserving_more_than_the_capacity_is_refused_at_once(state_file):
    bucket = shared_bucket(state_file, FakeClock(), capacity=4)
    with pytest.raises(RateLimited) as info:
        bucket.try_acquire(5)
    assert "needs 5 requests, more than the client-side rate limit allows at once" in str(
        info.value
    )
    with pytest.raises(RateLimited):
        bucket.acquire_wait(n=5)
    assert bucket.available() == pytest.approx(4.0)


def test_waiting_for_several_and_giving_back(state_file):
    clock = FakeClock()
    bucket = shared_bucket(state_file, clock)
    bucket.try_acquire(20)
    waited = bucket.acquire_wait(n=2)
    assert waited == pytest.approx(6.0)
    bucket.give_back(2)
    assert bucket.available() == pytest.approx(2.0)
    bucket.give_back(100)
    assert bucket.available() == pytest.approx(20.0)


# --- which file: per site, per user folder -----------------------------------------------------


def test_one_file_per_site():
    env = {"XDG_RUNTIME_DIR": "", "XDG_CACHE_HOME": "/x/cache"}
    acme = state_path("https://acme.atlassian.net", env)
    assert acme == state_path("HTTPS://ACME.atlassian.net/", env)
    assert acme != state_path("https://other.atlassian.net", env)
    assert acme != state_path("https://api.atlassian.com/ex/confluence/cloud-1", env)
    assert str(acme.parent) == os.path.join("/x/cache", "ctk")
    assert site_key("https://Acme.Atlassian.NET/") == "https://acme.atlassian.net"


def test_the_runtime_folder_comes_first(tmp_path):
    runtime = tmp_path / "run"
    runtime.mkdir()
    env = {"XDG_RUNTIME_DIR": str(runtime), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    assert state_folder(env) == runtime / "ctk"
    env["XDG_RUNTIME_DIR"] = str(tmp_path / "missing")
    assert state_folder(env) == tmp_path / "cache" / "ctk"


def test_limiter_from_environment_per_site_and_setting(tmp_path):
    env = {"CTK_RATE_LIMIT": "9/90", "XDG_CACHE_HOME": str(tmp_path)}
    one = limiter_from_environment(env, site="https://acme.atlassian.net")
    assert one is limiter_from_environment(env, site="https://acme.atlassian.net/")
    other = limiter_from_environment(env, site="https://other.atlassian.net")
    assert one is not None
    assert other is not None
    assert one is not other
    assert one.shared
    assert one.store.path == state_path("https://acme.atlassian.net", env)  # type: ignore[union-attr]
    local = limiter_from_environment(env)
    assert local is not None
    assert not local.shared


def test_the_embedded_sandbox_has_no_limiter_unless_asked(tmp_path):
    env = {"CTK_SANDBOX": "1", "XDG_CACHE_HOME": str(tmp_path)}
    assert limiter_from_environment(env, site="http://127.0.0.1:5000") is None
    asked = limiter_from_environment({**env, "CTK_RATE_LIMIT": "3/60"}, site="http://127.0.0.1:1")
    assert asked is not None
    assert asked.capacity == 3
    # its port changes with every run, its bucket does not
    again = limiter_from_environment({**env, "CTK_RATE_LIMIT": "3/60"}, site="http://127.0.0.1:2")
    assert again is asked
    # a sandbox served on its own (CTK_BASE_URL, no CTK_SANDBOX) is a site like any other
    assert limiter_from_environment({"XDG_CACHE_HOME": str(tmp_path)}, site="http://127.0.0.1:3")


# --- real processes ---------------------------------------------------------------------------

TAKER = textwrap.dedent(
    """
    import sys
    from ctk_core.errors import RateLimited
    from ctk_core.ratelimit import limiter_from_environment
    limiter = limiter_from_environment(site="https://acme.atlassian.net")
    sys.stdin.read()  # start together
    got = 0
    for _ in range(int(sys.argv[1])):
        try:
            limiter.try_acquire()
            got += 1
        except RateLimited:
            pass
    print(got)
    """
)


def test_processes_share_one_budget_exactly():
    env = {**os.environ, "CTK_RATE_LIMIT": "25/3600"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", TAKER, "4"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(12)
    ]
    outputs = [p.communicate("", timeout=60)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sum(int(out) for out in outputs) == 25  # 48 asked, the budget went through
    assert os.path.exists(state_path("https://acme.atlassian.net"))


def test_ctk_runs_share_one_budget_and_the_rest_fail_fast(ctk_cli, confluence_sandbox):
    env = {"CTK_RATE_LIMIT": "5/3600"}
    with ThreadPoolExecutor(max_workers=8) as pool:
        runs = list(
            pool.map(
                lambda _: ctk_cli("spaces", "list", env=env, subprocess=True, timeout=120),
                range(8),
            )
        )
    codes = sorted(r.exit_code for r in runs)
    assert codes == [0] * 5 + [7] * 3, runs
    for refused in (r for r in runs if r.exit_code == 7):
        assert refused.stdout == ""
        assert "Client-side rate limit reached (5 requests per 3600 s" in refused.stderr
    assert len(confluence_sandbox.requests.find("GET", "/wiki/api/v2/spaces")) == 5


def test_the_mcp_server_and_cli_runs_draw_from_one_budget(ctk_cli, ctk_mcp, confluence_sandbox):
    env = {"CTK_RATE_LIMIT": "4/3600"}
    session = ctk_mcp(env)  # the server of this test process
    for _ in range(3):
        assert ctk_cli("spaces", "list", env=env, subprocess=True).exit_code == 0
    assert session.call_json("manage_spaces", {"action": "list"})["results"]
    refused = session.error("manage_spaces", {"action": "list"})
    assert "Client-side rate limit reached (4 requests per 3600 s" in refused
    cli = ctk_cli("spaces", "list", env=env, subprocess=True)
    assert cli.exit_code == 7
    assert len(confluence_sandbox.requests.find("GET", "/wiki/api/v2/spaces")) == 4


def test_two_sites_do_not_share(ctk_cli, confluence_sandbox):
    from ctk_core.testing import running_sandbox

    env = {"CTK_RATE_LIMIT": "2/3600"}
    with running_sandbox() as other:
        for _ in range(2):
            assert ctk_cli("spaces", "list", env=env, subprocess=True).exit_code == 0
        assert ctk_cli("spaces", "list", env=env, subprocess=True).exit_code == 7
        elsewhere = {**env, **other.client_env}
        assert ctk_cli("spaces", "list", env=elsewhere, subprocess=True).exit_code == 0


def test_a_damaged_state_file_never_crashes_a_run(ctk_cli, confluence_sandbox):
    path = state_path(confluence_sandbox.url)
    path.parent.mkdir(parents=True, mode=0o755, exist_ok=True)
    path.write_bytes(b"\x00not a state\xff")
    os.chmod(path, 0o644)
    result = ctk_cli("spaces", "list", env={"CTK_RATE_LIMIT": "5/3600"}, subprocess=True)
    assert result.exit_code == 0, result
    assert result.stderr == ""
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert path.read_bytes().startswith(b"ctk-ratelimit-1 4.")


def test_ctk_sandbox_has_no_limiter_unless_asked(ctk_cli):
    env = {"CTK_RATE_LIMIT": None, "CTK_BASE_URL": None}
    for _ in range(3):
        result = ctk_cli("--sandbox", "spaces", "list", env=env)
        assert result.exit_code == 0, result
    asked = {**env, "CTK_RATE_LIMIT": "2/3600"}
    assert ctk_cli("--sandbox", "spaces", "list", env=asked).exit_code == 0
    assert ctk_cli("--sandbox", "spaces", "list", env=asked).exit_code == 0
    refused = ctk_cli("--sandbox", "spaces", "list", env=asked)
    assert refused.exit_code == 7
    assert "2 requests per 3600 s" in refused.stderr
    # with nothing set, the next runs still go through
    assert ctk_cli("--sandbox", "spaces", "list", env=env).exit_code == 0


def test_ctk_auth_draws_from_the_site_budget_too(tmp_path):
    from ctk_core.client import client_from_environment
    from ctk_core.commands.auth import _client

    env = {
        "CTK_RATE_LIMIT": "6/600",
        "XDG_CACHE_HOME": str(tmp_path),
        "CTK_BASE_URL": "https://acme.atlassian.net",
        "CONFLUENCE_EMAIL": "me@example.com",
        "CONFLUENCE_API_TOKEN": "token",
    }
    auth = _client("https://acme.atlassian.net", "me@example.com", "token", env)
    assert auth.limiter is not None
    assert auth.limiter.shared
    assert auth.limiter is client_from_environment(env).limiter
