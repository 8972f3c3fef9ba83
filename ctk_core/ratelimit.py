"""Client-side rate limiter: one token bucket per user and site, shared by every ctk process.

Every HTTP request takes a token. Interactive calls fail fast when the bucket is empty
(:meth:`TokenBucket.try_acquire` raises :class:`~ctk_core.errors.RateLimited` saying how long
until a token is back); bulk work paces itself with :meth:`TokenBucket.acquire_wait`. An
operation that sends several requests takes all their tokens at once (``try_acquire(n)``), or
none, so a limiter never cuts it in half.

The default is ``20/60``: a burst of 20 requests, then one more every 3 seconds. Fractions of a
token accrue continuously, so nothing is lost between calls. ``CTK_RATE_LIMIT=<n>/<seconds>``
changes it and ``CTK_RATE_LIMIT=off`` disables it. Against the embedded sandbox
(``ctk --sandbox``, ``CTK_SANDBOX=1``) the limiter is off unless ``CTK_RATE_LIMIT`` is set.

**Shared by the user's processes.** The bucket's state (the tokens and when they were counted)
lives in a small file, one per site (base URL): ``$XDG_RUNTIME_DIR/ctk/`` when that is set, else
the cache folder (``$XDG_CACHE_HOME/ctk``, ``~/.cache/ctk``; ``%LOCALAPPDATA%\\ctk\\cache`` on
Windows). The folder is 0700, the file 0600 (wider modes are tightened), and the file is read and
rewritten under an OS file lock (``fcntl.flock``; ``msvcrt.locking`` on Windows) held only while
a token is taken, never during a request. The state is tokens and a timestamp, not leases: a
process that crashes leaks nothing. A file with bad content counts as a full bucket and is
rewritten; a folder or file that cannot be used safely (a symlinked folder, someone else's, an
I/O error) makes ctk warn once on stderr and keep a bucket of its own, per process, as before.

Within a process the bucket is also thread-safe. Clock and sleep are injectable so tests never
really wait; the shared file stores wall-clock time (``time.time``), the only clock processes
share, and a clock that went backwards never leaves the bucket stuck.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import math
import os
import re
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from ctk_core.errors import RateLimited, UsageError, shown
from ctk_core.parsing import env_flag

DEFAULT_RATE_LIMIT = "20/60"
_OFF_VALUES = frozenset({"off", "none", "0", "false", "no", "disabled"})
_SPEC_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*(?:s|sec|seconds?)?\s*$", re.IGNORECASE)
_EPSILON = 1e-9
_HINT = "Wait and retry, or change CTK_RATE_LIMIT (e.g. 40/60, or off)."

#: A state read from a store: (tokens, timestamp), or None for "no state yet" (a full bucket).
State = tuple[float, float]


# --------------------------------------------------------------------------- where the state lives


class MemoryStore:
    """The bucket's state in this process only (the fallback, and the tests' default)."""

    shared = False

    def __init__(self) -> None:
        self.state: State | None = None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[list[State | None]]:
        box: list[State | None] = [self.state]
        yield box
        self.state = box[0]

    def __repr__(self) -> str:
        return "MemoryStore()"


class FileStore:
    """The bucket's state in a file every ctk process of this user reads and rewrites under an
    OS file lock. The lock is held for one read-compute-write, a few microseconds."""

    shared = True

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._name = str(self.path)
        self._folder_checked = False

    def __repr__(self) -> str:
        return f"FileStore({str(self.path)!r})"

    @contextlib.contextmanager
    def transaction(self) -> Iterator[list[State | None]]:
        fd = self._open()
        try:
            _lock(fd)
            try:
                data = _read_all(fd)
                state = _parse_state(data)
                box: list[State | None] = [state]
                yield box
                if box[0] is not None and box[0] != state:
                    _write_all(fd, _format_state(box[0]), len(data))
            finally:
                _unlock(fd)
        finally:
            os.close(fd)

    def _open(self) -> int:
        """Open (creating) the state file; checks and tightens its mode and its folder's."""
        if not self._folder_checked:  # once per process, and again if the folder goes away
            _private_folder(self.path.parent)
            self._folder_checked = True
        for attempt in (1, 2):
            try:
                fd = os.open(self._name, _FILE_FLAGS, 0o600)
            except OSError as exc:
                if attempt == 2:
                    raise
                if exc.errno == errno.ENOENT:  # the folder was removed (a tmp cleaner)
                    _private_folder(self.path.parent)
                    continue
                # A symbolic link where the file should be (O_NOFOLLOW): our own folder, so the
                # link is removed and a plain file made in its place.
                if exc.errno in (errno.ELOOP, errno.EMLINK):
                    os.unlink(self._name)
                    continue
                raise
            try:
                _check_file(fd, self.path)
            except BaseException:
                os.close(fd)
                raise
            return fd
        raise OSError(errno.ELOOP, "the state file keeps being replaced by a link", str(self.path))


_FILE_FLAGS = (
    os.O_RDWR
    | os.O_CREAT
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def _private_folder(folder: Path) -> None:
    """Create ``folder`` 0700 when missing; tighten it when it is ours; refuse it otherwise."""
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except FileExistsError:
        pass
    st = os.lstat(folder)
    if stat.S_ISLNK(st.st_mode):
        raise OSError(errno.ELOOP, "the folder is a symbolic link", str(folder))
    if not stat.S_ISDIR(st.st_mode):
        raise OSError(errno.ENOTDIR, "not a folder", str(folder))
    if os.name == "posix":
        if st.st_uid != os.getuid():
            raise OSError(errno.EPERM, f"the folder belongs to uid {st.st_uid}", str(folder))
        if stat.S_IMODE(st.st_mode) & 0o077:
            os.chmod(folder, 0o700)


def _check_file(fd: int, path: Path) -> None:
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        raise OSError(errno.EINVAL, "the state file is not a regular file", str(path))
    if os.name == "posix":
        if st.st_uid != os.getuid():
            raise OSError(errno.EPERM, f"the state file belongs to uid {st.st_uid}", str(path))
        if stat.S_IMODE(st.st_mode) & 0o077:
            os.fchmod(fd, 0o600)


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                return
            except OSError as exc:  # LK_LOCK gives up after 10 tries; keep waiting
                if exc.errno != errno.EDEADLOCK:
                    raise

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - no POSIX locks: callers fall back to a memory store
        fcntl = None  # type: ignore[assignment]

    def _lock(fd: int) -> None:
        if fcntl is None:  # pragma: no cover
            raise OSError(errno.ENOSYS, "no file locking on this system")
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _unlock(fd: int) -> None:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)


def _read_all(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    # A state is about 50 bytes; a longer file is not one (it is rewritten and truncated).
    return os.read(fd, 4096)


def _write_all(fd: int, data: bytes, old_size: int) -> None:
    os.lseek(fd, 0, os.SEEK_SET)
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
    if old_size > len(data):
        os.ftruncate(fd, len(data))


_STATE_MAGIC = b"ctk-ratelimit-1"


def _format_state(state: State) -> bytes:
    tokens, stamp = state
    return b"%s %.9f %.6f\n" % (_STATE_MAGIC, tokens, stamp)


def _parse_state(data: bytes) -> State | None:
    """``(tokens, stamp)`` from the file's bytes; None when empty or not understood."""
    parts = data.split()
    if len(parts) != 3 or parts[0] != _STATE_MAGIC:
        return None
    try:
        tokens, stamp = float(parts[1]), float(parts[2])
    except ValueError:
        return None
    if not (math.isfinite(tokens) and math.isfinite(stamp)) or tokens < 0:
        return None
    return tokens, stamp


def state_folder(environ: Mapping[str, str] | None = None) -> Path:
    """Where the shared buckets live: ``$XDG_RUNTIME_DIR/ctk``, else the user's cache folder."""
    env = os.environ if environ is None else environ
    runtime = env.get("XDG_RUNTIME_DIR") or ""
    if runtime and os.path.isabs(runtime) and os.path.isdir(runtime):
        return Path(runtime) / "ctk"
    if sys.platform == "win32":  # pragma: no cover - Windows only
        local = env.get("LOCALAPPDATA") or os.path.join(os.path.expanduser("~"), "AppData", "Local")
        return Path(local) / "ctk" / "cache"
    cache = env.get("XDG_CACHE_HOME") or ""
    if not (cache and os.path.isabs(cache)):
        cache = os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "ctk"


def site_key(base_url: str) -> str:
    """A base URL in one spelling (scheme and host lower case, no trailing slash)."""
    if base_url.startswith("ctk-sandbox:"):
        return base_url
    parts = urlsplit(base_url.strip())
    netloc = parts.netloc.lower()
    return f"{parts.scheme.lower()}://{netloc}{parts.path.rstrip('/')}"


def state_path(base_url: str, environ: Mapping[str, str] | None = None) -> Path:
    """The state file of one site's bucket: ``ratelimit-<hash of the base URL>``."""
    digest = hashlib.sha256(site_key(base_url).encode("utf-8")).hexdigest()[:24]
    return state_folder(environ) / f"ratelimit-{digest}"


# --------------------------------------------------------------------------- the bucket


class TokenBucket:
    """A token bucket: ``capacity`` tokens, refilled at ``capacity / period`` per second.

    ``store`` keeps the state: in this process (:class:`MemoryStore`, the default) or in a file
    shared by the user's processes (:class:`FileStore`). ``clock`` returns seconds (default
    ``time.monotonic`` in memory, ``time.time`` in a shared file); ``sleep`` waits that many
    seconds. Tests replace both with fakes.
    """

    def __init__(
        self,
        capacity: int = 20,
        period: float = 60.0,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        store: MemoryStore | FileStore | None = None,
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        if period <= 0:
            raise ValueError("period must be positive")
        self.capacity = int(capacity)
        self.period = float(period)
        self.rate = self.capacity / self.period  # tokens per second
        self.store: MemoryStore | FileStore = store if store is not None else MemoryStore()
        if clock is None:
            clock = time.time if self.store.shared else time.monotonic
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self.taken = 0  # tokens handed out by this object (for tests and benchmarks)
        self._warned = False

    @property
    def shared(self) -> bool:
        """Whether the bucket is shared with the user's other ctk processes (a state file)."""
        return self.store.shared

    def describe(self) -> str:
        period = f"{self.period:g}"
        return f"{self.capacity} requests per {period} s"

    def _where(self) -> str:
        return ", shared by your ctk processes for this site" if self.shared else ""

    # -- the one critical section ----------------------------------------------------------

    def _update(self, change: Callable[[float], float | None]) -> tuple[float, bool]:
        """Refill, then ``change(tokens)`` -> the new count (None: leave it). Returns the count
        before the change and whether it changed. Runs under the thread lock and the file lock;
        a store that fails is replaced by a memory store (warning once)."""
        with self._lock:
            try:
                return self._update_in(self.store, change)
            except OSError as exc:
                self._fall_back(exc)
                return self._update_in(self.store, change)

    def _update_in(
        self, store: MemoryStore | FileStore, change: Callable[[float], float | None]
    ) -> tuple[float, bool]:
        now = self._clock()
        with store.transaction() as box:
            state = box[0]
            if state is None:
                tokens = float(self.capacity)
            else:
                tokens, stamp = state
                elapsed = now - stamp
                if elapsed > 0:
                    tokens += elapsed * self.rate
                # elapsed < 0: the clock went back (or another process's clock is ahead); no
                # refill, and the stamp moves to now so the bucket is never stuck.
            tokens = min(float(self.capacity), max(0.0, tokens))
            new = change(tokens)
            box[0] = (tokens if new is None else new, now)
            return tokens, new is not None

    def _fall_back(self, exc: OSError) -> None:
        path = getattr(self.store, "path", None)
        self.store = MemoryStore()
        if not self._warned:
            self._warned = True
            reason = exc.strerror or str(exc)
            try:
                sys.stderr.write(
                    f"ctk: warning: the rate limit state {path} cannot be used ({reason}); "
                    "this process keeps its own bucket.\n"
                )
                sys.stderr.flush()
            except (OSError, ValueError, AttributeError):  # pragma: no cover
                pass

    # -- what callers use ------------------------------------------------------------------

    def available(self) -> float:
        """Tokens in the bucket now (fractional)."""
        return self._update(lambda tokens: None)[0]

    def wait_time(self, n: int = 1) -> float:
        """Seconds until ``n`` whole tokens are available (0 when they are now)."""
        return self._wait(self.available(), n)

    def _wait(self, tokens: float, n: int) -> float:
        missing = n - tokens
        if missing <= _EPSILON:
            return 0.0
        return missing / self.rate

    def _take(self, n: int) -> tuple[bool, float]:
        """Take ``n`` tokens if they are all there. Returns (taken, tokens before)."""
        before, taken = self._update(lambda t: max(0.0, t - n) if t >= n - _EPSILON else None)
        if taken:
            self.taken += n
        return taken, before

    def _too_many(self, n: int) -> RateLimited:
        return RateLimited(
            f"This operation needs {n} requests, more than the client-side rate limit allows "
            f"at once ({self.describe()}); nothing was sent.",
            hint="Do it in smaller parts, or raise CTK_RATE_LIMIT (e.g. "
            f"{max(n, 2 * self.capacity)}/{self.period:g}).",
        )

    def try_acquire(self, n: int = 1) -> None:
        """Take ``n`` tokens or none, failing at once with :class:`RateLimited` naming the wait."""
        if n < 1:
            return
        if n > self.capacity:
            raise self._too_many(n)
        taken, before = self._take(n)
        if taken:
            return
        wait = self._wait(before, n)
        shown = max(0.1, math.ceil(wait * 10) / 10)
        if n == 1:
            message = (
                f"Client-side rate limit reached ({self.describe()}{self._where()}): "
                f"the next request is possible in {shown:.1f} s."
            )
        else:
            message = (
                f"Client-side rate limit reached ({self.describe()}{self._where()}): this "
                f"operation needs {n} requests and {int(before + _EPSILON)} are available, so "
                f"nothing was sent; all {n} are possible in {shown:.1f} s."
            )
        raise RateLimited(message, retry_after=wait, hint=_HINT)

    def acquire_wait(
        self,
        on_wait: Callable[[float], None] | None = None,
        max_wait: float | None = None,
        n: int = 1,
    ) -> float:
        """Take ``n`` tokens, sleeping until they are back. Returns the seconds waited.

        ``on_wait(seconds)`` is called before each sleep (a progress line such as "waiting 2.4 s
        for the rate limiter"). With ``max_wait``, a wait that would exceed it raises
        :class:`RateLimited` instead. Other processes may take the tokens meanwhile: then it
        waits again.
        """
        if n > self.capacity:
            raise self._too_many(n)
        waited = 0.0
        while True:
            taken, before = self._take(n)
            if taken:
                return waited
            wait = self._wait(before, n)
            if max_wait is not None and waited + wait > max_wait:
                raise RateLimited(
                    f"Client-side rate limit ({self.describe()}{self._where()}): no token "
                    f"within {max_wait:g} s.",
                    retry_after=wait,
                )
            if on_wait is not None:
                on_wait(wait)
            self._sleep(wait)
            waited += wait

    def give_back(self, n: int) -> None:
        """Return ``n`` tokens taken but not used (up to the capacity)."""
        if n > 0:
            self._update(lambda tokens: min(float(self.capacity), tokens + n))
            self.taken -= n


# --------------------------------------------------------------------------- from the environment


def parse_rate_limit(
    value: str | None,
    *,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    store: MemoryStore | FileStore | None = None,
) -> TokenBucket | None:
    """Build a bucket from a ``CTK_RATE_LIMIT`` value; ``None`` when the limiter is off.

    An empty or missing value means the default (20/60). A malformed value is a usage error
    naming the variable and the accepted forms.
    """
    text = (value or "").strip()
    if not text:
        text = DEFAULT_RATE_LIMIT
    if text.lower() in _OFF_VALUES:
        return None
    match = _SPEC_RE.match(text)
    if not match:
        raise UsageError(
            f"CTK_RATE_LIMIT={shown(value)} is not understood.",
            hint="Use <requests>/<seconds> (for example 20/60) or off.",
        )
    count = int(match.group(1))
    seconds = float(match.group(2))
    if count < 1 or seconds <= 0:
        raise UsageError(
            f"CTK_RATE_LIMIT={shown(value)} must allow at least 1 request per a positive number "
            "of seconds.",
            hint="Use <requests>/<seconds> (for example 20/60) or off.",
        )
    return TokenBucket(count, seconds, clock=clock, sleep=sleep, store=store)


def stable_site(site: str, environ: Mapping[str, str] | None = None) -> str:
    """``site`` (a base URL) as a name that stays the same between runs.

    The embedded sandbox (``CTK_SANDBOX``, set by ``ctk --sandbox``) listens on a new port each
    run, so its URL changes every time: it is named ``ctk-sandbox:<its data folder>`` instead.
    The rate limiter's bucket and the state files of ``ctk export`` and ``ctk push`` use this
    name, so they carry over from one ``ctk --sandbox`` run to the next."""
    env = os.environ if environ is None else environ
    if env_flag(env.get("CTK_SANDBOX")):
        return "ctk-sandbox:" + (env.get("XDG_DATA_HOME") or "~/.local/share")
    return site


_shared_lock = threading.Lock()
_shared: dict[tuple[str, str, str], TokenBucket | None] = {}


def limiter_from_environment(
    environ: Mapping[str, str] | None = None, site: str | None = None
) -> TokenBucket | None:
    """The limiter for the current ``CTK_RATE_LIMIT`` and ``site`` (a base URL).

    With a site, the bucket is the user's, shared with every ctk process talking to that site
    (a state file, see the module docstring); without one it belongs to this process. Either
    way every client built in one process with the same setting and site gets the same object.
    Against the embedded sandbox (``CTK_SANDBOX`` set by ``ctk --sandbox``) the limiter is off
    unless ``CTK_RATE_LIMIT`` is set explicitly.
    """
    env = os.environ if environ is None else environ
    explicit = (env.get("CTK_RATE_LIMIT") or "").strip().lower()
    sandbox = env_flag(env.get("CTK_SANDBOX"))
    if not explicit and sandbox:
        return None
    if site:
        site = stable_site(site, env)  # the embedded sandbox: one bucket for all its runs
    spec = explicit or DEFAULT_RATE_LIMIT
    folder = str(state_folder(env)) if site else ""
    key = (spec, site_key(site) if site else "", folder)
    with _shared_lock:
        if key not in _shared:
            store = FileStore(state_path(site, env)) if site else None
            _shared[key] = parse_rate_limit(spec, store=store)
        return _shared[key]


__all__ = [
    "DEFAULT_RATE_LIMIT",
    "FileStore",
    "MemoryStore",
    "TokenBucket",
    "limiter_from_environment",
    "parse_rate_limit",
    "site_key",
    "stable_site",
    "state_folder",
    "state_path",
]
