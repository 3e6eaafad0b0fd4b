"""``praxis launch``: several ``praxis run`` processes sharing Discord's shards, kept running.

One Praxis process is one event loop on one core. With PostgreSQL, several can serve one
database, each connecting its own Discord shards (``SHARD_COUNT``, ``SHARD_IDS``) and
claiming its servers' scheduled work in the database. The launcher starts them, restarts
one that dies on its own, and on SIGTERM or SIGINT passes the signal on and waits for
every one to finish its graceful stop.

The launcher itself does nothing else: no discord.py, no database, no threads. It waits
for signals with ``sigtimedwait`` (SIGCHLD, SIGTERM, SIGINT blocked, so none is missed
between two checks), which is why children start with an empty signal mask, and, on
Linux, with ``PR_SET_PDEATHSIG``: if the launcher itself is killed outright, its children
get SIGTERM instead of serving on as orphans beside the processes a restarted launcher
would start for the same shards.

What it logs about a child: its number, its shards, its pid and how it ended, never its
environment or command line (the environment holds the tokens).
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

#: A child that ends with this status met a configuration problem (``praxis run`` says
#: which): restarting it would fail the same way, so the launcher stops them all.
CONFIG_ERROR = 2
#: Children's graceful stop is about ``SHUTDOWN_GRACE`` (4 s) plus closing the database;
#: one still running this long after the signal is killed.
STOP_TIMEOUT = 30.0
_WATCHED = {signal.SIGCHLD, signal.SIGTERM, signal.SIGINT}
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


@dataclass(frozen=True, slots=True)
class Backoff:
    """Seconds before restarting a child that died: ``first``, doubling up to ``cap``;
    back to ``first`` once a child has run ``stable`` seconds. Doubling keeps a crash loop
    from spending Discord's daily allowance of logins (1,000 for most bots)."""

    first: float = 1.0
    cap: float = 60.0
    stable: float = 60.0


def shard_shares(processes: int, shard_count: int) -> list[tuple[int, ...]]:
    """Split ``range(shard_count)`` into ``processes`` contiguous runs, sizes within one.

    Discord puts a server on shard ``(server_id >> 22) % shard_count``, which spreads
    servers evenly over the shards, so any split of equal sizes balances the load;
    contiguous runs ("shards 4-7") are the easiest to read in logs and to write as
    systemd instance names.
    """
    base, extra = divmod(shard_count, processes)
    shares, start = [], 0
    for index in range(processes):
        size = base + (1 if index < extra else 0)
        shares.append(tuple(range(start, start + size)))
        start += size
    return shares


def launch_problem(processes: int, shard_count: int, database_url: str | None) -> str | None:
    """Why ``praxis launch`` can't start with these numbers, as one sentence, or ``None``."""
    if not database_url:
        return ("Several processes share one PostgreSQL database: set DATABASE_URL=postgresql://… "
                "(see docs/DEPLOYMENT.md, 'Several processes'), or use praxis run.")  # fmt: skip
    if processes < 1:
        return "--processes must be at least 1."
    if shard_count < processes:
        return (f"--shard-count ({shard_count}) must be at least --processes ({processes}): "
                "each process needs a shard of its own.")  # fmt: skip
    return None


def shard_list(shards: Sequence[int]) -> str:
    """``0,1,2``: the form of ``SHARD_IDS`` and of the log lines."""
    return ",".join(map(str, shards))


def describe(returncode: int) -> str:
    """``status 1`` or ``signal SIGKILL``: how a child ended, for a log line."""
    if returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"status {returncode}"


@dataclass(slots=True)
class Child:
    """One slot: its shards, and the process serving them now (if any)."""

    index: int
    shards: tuple[int, ...]
    process: subprocess.Popen | None = None
    started: float = 0.0
    delay: float = 0.0  # the next restart's wait
    restart_at: float | None = None
    ended: int | None = None  # its last exit status, once it has ended

    @property
    def name(self) -> str:
        return f"process {self.index} (shards {shard_list(self.shards)})"


@dataclass
class Launcher:
    """Runs one ``command`` per share, with ``SHARD_COUNT`` and ``SHARD_IDS`` added to
    ``environ``; :meth:`run` returns the launcher's exit status."""

    shares: Sequence[Sequence[int]]
    command: Sequence[str]
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    backoff: Backoff = field(default_factory=Backoff)
    stop_timeout: float = STOP_TIMEOUT
    start_gap: float = 0.0  # seconds between first starts (Discord's limits are the bot's)
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self.shard_count = sum(len(share) for share in self.shares)
        self.children = [
            Child(i, tuple(share), delay=self.backoff.first) for i, share in enumerate(self.shares)
        ]
        self.fatal: int | None = None  # set when a child can't be kept running

    def run(self) -> int:
        """Start every child, keep them running until a signal, then stop them all.

        0: every child stopped cleanly; 1: one failed to stop cleanly (or was killed
        after ``stop_timeout``) or couldn't be started; 2: one reported a configuration
        problem, so all were stopped.
        """
        old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, _WATCHED)
        try:
            self._start(self.children[0])
            for child in self.children[1:]:  # started by _supervise, which heeds signals
                child.restart_at = self.clock() + child.index * self.start_gap
            signum = self._supervise()
            return self._stop_all(signum)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)

    # ------------------------------------------------------------------ keeping them up

    def _supervise(self) -> int:
        """Restart children that end until a signal arrives (returned) or one can't be
        kept running (``self.fatal``; returns SIGTERM, to stop the others)."""
        while True:
            for child in self._reap():
                self._after_death(child)
            if self.fatal is not None:
                return signal.SIGTERM
            now = self.clock()
            for child in self.children:
                if child.restart_at is not None and child.restart_at <= now:
                    self._start(child)
                    if self.fatal is not None:
                        return signal.SIGTERM
            waits = [c.restart_at - now for c in self.children if c.restart_at is not None]
            info = signal.sigtimedwait(_WATCHED, max(0.0, min(waits, default=3600.0)))
            if info is not None and info.si_signo in (signal.SIGTERM, signal.SIGINT):
                log.info("Stopping %d processes on %s", len(self.children),
                         signal.Signals(info.si_signo).name)  # fmt: skip
                return info.si_signo

    def _start(self, child: Child) -> None:
        env = {
            **self.environ,
            "SHARD_COUNT": str(self.shard_count),
            "SHARD_IDS": shard_list(child.shards),
        }
        child.restart_at = None
        try:
            # preexec_fn is safe here: the launcher has no threads (see the module doc).
            child.process = subprocess.Popen(
                list(self.command), env=env, preexec_fn=_child_setup(os.getpid())
            )
        except OSError as error:
            log.error("Could not start %s (%s); stopping the others", child.name,
                      error.strerror or type(error).__name__)  # fmt: skip
            child.process, child.ended, self.fatal = None, None, 1
            return
        child.started, child.ended = self.clock(), None
        log.info("Started %s of %d, pid %d", child.name, self.shard_count, child.process.pid)

    def _reap(self) -> list[Child]:
        """Children whose process has ended since the last look."""
        ended = []
        for child in self.children:
            if child.process is not None and child.process.poll() is not None:
                child.ended = child.process.returncode
                child.process = None
                ended.append(child)
        return ended

    def _after_death(self, child: Child) -> None:
        """Schedule the restart of a child that ended on its own, or give up on a
        configuration error."""
        assert child.ended is not None
        ran = self.clock() - child.started
        if child.ended == CONFIG_ERROR:
            log.error("%s stopped with status 2, a configuration problem (its message is "
                      "above); stopping the others", child.name.capitalize())  # fmt: skip
            self.fatal = CONFIG_ERROR
            return
        if ran >= self.backoff.stable:
            child.delay = self.backoff.first
        log.warning("%s ended with %s after %.1f s; restarting it in %.1f s",
                    child.name.capitalize(), describe(child.ended), ran, child.delay)  # fmt: skip
        child.restart_at = self.clock() + child.delay
        child.delay = min(child.delay * 2, self.backoff.cap)

    # ----------------------------------------------------------------------- stopping

    def _stop_all(self, signum: int) -> int:
        """Pass ``signum`` to every running child, wait for them, and say how it went."""
        for child in self.children:
            child.restart_at = None
            if child.process is not None:
                child.process.send_signal(signum)
        deadline = self.clock() + self.stop_timeout
        stopped = {signal.SIGTERM, signal.SIGINT}  # ended by the signal passed on: stopped
        failed = False
        while any(child.process is not None for child in self.children):
            for child in self._reap():
                clean = child.ended == 0 or -child.ended in stopped
                failed = failed or not clean
                log.log(logging.INFO if clean else logging.ERROR, "%s stopped with %s",
                        child.name.capitalize(), describe(child.ended))  # fmt: skip
            remaining = deadline - self.clock()
            if remaining <= 0:
                failed = self._kill_the_rest() or failed
                break
            if any(child.process is not None for child in self.children):
                signal.sigtimedwait(_WATCHED, remaining)  # SIGCHLD; a repeated signal is spent
        if self.fatal is not None:
            return self.fatal
        if not failed:
            log.info("All %d processes stopped", len(self.children))
        return 1 if failed else 0

    def _kill_the_rest(self) -> bool:
        """SIGKILL children still running past the stop timeout; True if there were any."""
        killed = False
        for child in self.children:
            if child.process is not None:
                log.error("%s still running %.0f s after the signal; killing it",
                          child.name.capitalize(), self.stop_timeout)  # fmt: skip
                child.process.kill()
                child.process.wait()
                child.process = None
                killed = True
        return killed


def _child_setup(parent: int) -> Callable[[], None]:
    """What a child does between fork and exec: unblock the signals the launcher waits
    for (a blocked SIGTERM would survive exec), and ask Linux for SIGTERM if the launcher
    dies (then check it hasn't already)."""
    prctl = _prctl()

    def setup() -> None:
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        if prctl is not None:
            prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
            if os.getppid() != parent:
                os._exit(1)

    return setup


def _prctl() -> Callable[[int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
