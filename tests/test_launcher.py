"""``praxis launch``: real launcher processes running tiny ``python -c`` children.

Each child notes in a shared file when it starts (with the shard settings it was given)
and when it stops; the tests wait for those notes (never for a fixed time) and send the
launcher real signals.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.launcher import Backoff, Launcher, describe, launch_problem, shard_shares

ROOT = Path(__file__).resolve().parents[1]
SECRET = "xoxb-launcher-test-secret"

pytestmark = pytest.mark.sqlite_only("processes only, no database: the same on both backends")

#: The child: ``python -c CHILD NOTES MODE``. Modes: ``serve`` (until SIGTERM, then a
#: slow clean stop), ``crash-once`` (shard 0's first run exits 3), ``fail-on-stop``
#: (exits 1 on SIGTERM), ``config`` (shard 0 exits 2 at once), ``stubborn`` (shard 0
#: ignores SIGTERM).
CHILD = r"""
import os, signal, sys, time
notes, mode = sys.argv[1], sys.argv[2]
shards = os.environ["SHARD_IDS"]
first = shards.split(",")[0] == "0"

def note(text):
    with open(notes, "a") as file:
        file.write(f"{text} {os.getpid()} {os.environ['SHARD_COUNT']} {shards}\n")

def stop(signum, frame):
    time.sleep(0.3)  # a graceful stop takes a moment; the launcher must wait for it
    note("stop")
    sys.exit(1 if mode == "fail-on-stop" and first else 0)

signal.signal(signal.SIGTERM, signal.SIG_IGN if mode == "stubborn" and first else stop)
note("start")
if os.environ.get("SLACK_BOT_TOKEN") != "SECRET":
    note("no-parent-environment")
if first and mode == "config":
    sys.exit(2)
if first and mode == "crash-once" and not os.path.exists(notes + ".crashed"):
    open(notes + ".crashed", "w").close()
    sys.exit(3)
while True:
    signal.pause()
""".replace("SECRET", SECRET)

STOP_TIMEOUT = 2  # the launcher's: long enough for the children's 0.3 s graceful stop
LAUNCHER = r"""
import logging, sys
from bot.launcher import Backoff, Launcher, shard_shares
logging.basicConfig(level="INFO", format="%(levelname)s %(message)s")
processes, shard_count, notes, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
child = [sys.executable, "-c", sys.argv[5], notes, mode]
launcher = Launcher(shard_shares(processes, shard_count), child,
                    backoff=Backoff(first=0.05, cap=0.2, stable=30), stop_timeout=STOP_TIMEOUT,
                    start_gap=float(sys.argv[6]))
sys.exit(launcher.run())
""".replace("STOP_TIMEOUT", str(STOP_TIMEOUT))


def start_launcher(
    tmp_path: Path, processes: int, shards: int, mode: str = "serve", gap: float = 0
):
    notes = tmp_path / "notes"
    env = {**os.environ, "SLACK_BOT_TOKEN": SECRET, "PYTHONPATH": str(ROOT)}
    args = [str(processes), str(shards), str(notes), mode, CHILD, str(gap)]
    process = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, *args],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process, notes


def notes_of(notes: Path, kind: str) -> list[tuple[int, int, str]]:
    """(pid, SHARD_COUNT, SHARD_IDS) of each ``kind`` note so far."""
    if not notes.exists():
        return []
    found = []
    for line in notes.read_text().splitlines():
        word, pid, count, shards = line.split()
        if word == kind:
            found.append((int(pid), int(count), shards))
    return found


def wait_for(condition, launcher: subprocess.Popen, timeout: float = 8.0):
    """Poll until ``condition()`` is truthy; fail if the launcher ends or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        assert launcher.poll() is None, f"launcher ended early: {launcher.stderr.read()}"
        time.sleep(0.02)
    raise AssertionError("the launcher's children never got there")


def stop(launcher: subprocess.Popen, signum: int = signal.SIGTERM) -> tuple[int, str]:
    launcher.send_signal(signum)
    try:
        _, err = launcher.communicate(timeout=10)
    finally:
        if launcher.poll() is None:
            launcher.kill()
    return launcher.returncode, err


def gone(pid: int) -> bool:
    """The process has exited (a zombie not reaped yet counts: it runs nothing)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


# ------------------------------------------------------------------------------- shares


@pytest.mark.parametrize("processes", range(1, 9))
def test_shares_are_disjoint_complete_contiguous_and_even(processes):
    for shard_count in range(processes, 40):
        shares = shard_shares(processes, shard_count)
        assert len(shares) == processes
        every = [shard for share in shares for shard in share]
        assert every == list(range(shard_count))  # disjoint, complete, in order
        sizes = {len(share) for share in shares}
        assert max(sizes) - min(sizes) <= 1 and min(sizes) >= 1


def test_impossible_launches_are_refused_in_one_sentence():
    url = "postgresql://praxis@/praxis"
    assert "DATABASE_URL" in launch_problem(2, 2, None)
    assert "at least 1" in launch_problem(0, 0, url)
    assert "--shard-count (2) must be at least --processes (3)" in launch_problem(3, 2, url)
    assert launch_problem(2, 5, url) is None
    assert describe(-signal.SIGKILL) == "signal SIGKILL" and describe(3) == "status 3"


# ---------------------------------------------------------------------- real processes


def test_each_child_serves_its_share_and_sigterm_stops_every_one_first(tmp_path):
    launcher, notes = start_launcher(tmp_path, 3, 7)
    starts = wait_for(lambda: len(notes_of(notes, "start")) == 3 and notes_of(notes, "start"),
                      launcher)  # fmt: skip
    assert {count for _, count, _ in starts} == {7}
    shards = sorted(int(s) for _, _, ids in starts for s in ids.split(","))
    assert shards == list(range(7))  # disjoint and complete across the processes
    assert notes_of(notes, "no-parent-environment") == []

    status, err = stop(launcher)

    assert status == 0, err
    stops = notes_of(notes, "stop")
    assert sorted(pid for pid, _, _ in stops) == sorted(pid for pid, _, _ in starts)
    assert all(gone(pid) for pid, _, _ in starts)  # waited for (reaped), not left behind
    assert SECRET not in err


def test_sigint_is_passed_on_too(tmp_path):
    launcher, notes = start_launcher(tmp_path, 2, 2)
    wait_for(lambda: len(notes_of(notes, "start")) == 2, launcher)
    status, err = stop(launcher, signal.SIGINT)
    # The children only catch SIGTERM here: SIGINT ends them, which counts as stopped.
    assert status == 0, err
    assert "Stopping 2 processes on SIGINT" in err


def test_with_a_start_gap_a_signal_stops_the_launch_between_two_starts(tmp_path):
    launcher, notes = start_launcher(tmp_path, 3, 3, gap=60)
    wait_for(lambda: notes_of(notes, "start"), launcher)
    status, err = stop(launcher)
    assert status == 0, err
    assert [ids for _, _, ids in notes_of(notes, "start")] == ["0"]  # the others never began
    assert [ids for _, _, ids in notes_of(notes, "stop")] == ["0"]


def test_a_child_that_dies_is_restarted_with_the_same_shards(tmp_path):
    launcher, notes = start_launcher(tmp_path, 2, 4, "crash-once")
    starts = wait_for(lambda: len(notes_of(notes, "start")) == 3 and notes_of(notes, "start"),
                      launcher)  # fmt: skip
    first = [start for start in starts if start[2] == "0,1"]
    assert len(first) == 2 and first[0][0] != first[1][0]  # a new process, same shards
    assert [ids for _, _, ids in starts].count("2,3") == 1  # the other one left alone

    status, err = stop(launcher)

    assert status == 0, err
    assert "Process 0 (shards 0,1) ended with status 3" in err
    assert "restarting it in 0.1 s" in err  # Backoff.first, 0.05
    assert SECRET not in err
    assert len(notes_of(notes, "stop")) == 2


def test_the_exit_status_says_a_child_failed_to_stop_cleanly(tmp_path):
    launcher, notes = start_launcher(tmp_path, 2, 2, "fail-on-stop")
    wait_for(lambda: len(notes_of(notes, "start")) == 2, launcher)
    status, err = stop(launcher)
    assert status == 1
    assert "Process 0 (shards 0) stopped with status 1" in err
    assert len(notes_of(notes, "stop")) == 2  # the other still stopped gracefully


def test_a_child_still_running_after_the_stop_timeout_is_killed(tmp_path):
    launcher, notes = start_launcher(tmp_path, 2, 2, "stubborn")
    starts = wait_for(lambda: len(notes_of(notes, "start")) == 2 and notes_of(notes, "start"),
                      launcher)  # fmt: skip
    status, err = stop(launcher)
    assert status == 1
    assert f"still running {STOP_TIMEOUT} s after the signal; killing it" in err
    assert all(gone(pid) for pid, _, _ in starts)


def test_a_configuration_error_stops_everything_without_restarting(tmp_path):
    launcher, notes = start_launcher(tmp_path, 2, 2, "config")
    _, err = launcher.communicate(timeout=10)
    assert launcher.returncode == 2
    assert "configuration problem" in err
    starts = notes_of(notes, "start")
    assert [ids for _, _, ids in starts].count("0") == 1  # not restarted
    assert notes_of(notes, "stop") == [(pid, 2, "1") for pid, _, ids in starts if ids == "1"]


def test_children_of_a_killed_launcher_are_told_to_stop(tmp_path):
    launcher, notes = start_launcher(tmp_path, 2, 2)
    starts = wait_for(lambda: len(notes_of(notes, "start")) == 2 and notes_of(notes, "start"),
                      launcher)  # fmt: skip
    launcher.kill()
    launcher.wait(timeout=5)
    deadline = time.monotonic() + 8
    while len(notes_of(notes, "stop")) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(notes_of(notes, "stop")) == 2  # PR_SET_PDEATHSIG: SIGTERM, a graceful stop
    for pid, _, _ in starts:
        while not gone(pid) and time.monotonic() < deadline:
            time.sleep(0.02)  # reaped by init once they exit
        assert gone(pid)


def test_restarts_back_off_doubling_up_to_the_cap_and_reset_after_a_stable_run():
    now = [100.0]
    launcher = Launcher([[0]], ["unused"], backoff=Backoff(first=1, cap=5, stable=60),
                        clock=lambda: now[0])  # fmt: skip
    child = launcher.children[0]
    waits = []
    for ran in (1, 1, 1, 1, 1, 61, 1):
        child.started, child.ended = now[0] - ran, 1
        launcher._after_death(child)
        waits.append(child.restart_at - now[0])
    assert waits == [1, 2, 4, 5, 5, 1, 2]
    assert launcher.fatal is None


def test_the_launcher_does_not_leave_its_own_signal_mask_changed():
    before = signal.pthread_sigmask(signal.SIG_BLOCK, set())
    launcher = Launcher([[0]], [sys.executable, "-c", "raise SystemExit(2)"])
    assert launcher.run() == 2
    assert signal.pthread_sigmask(signal.SIG_BLOCK, set()) == before


# ------------------------------------------------------------------------------ the CLI


def praxis(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "DISCORD_", "SLACK_"))
    }
    environ.update(PYTHONPATH=str(ROOT), **env)
    return subprocess.run(
        [sys.executable, "-m", "bot", "launch", *args],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["--processes", "2"], {}, "set DATABASE_URL=postgresql://"),
        (["--processes", "3", "--shard-count", "2"], {"DATABASE_URL": "postgresql://x@/p"},
         "--shard-count (2) must be at least --processes (3)"),
        (["--processes", "0"], {"DATABASE_URL": "postgresql://x@/p"}, "at least 1"),
        (["--processes", "2"], {"DATABASE_URL": "postgresql://x@/p"}, "No Discord bot token"),
    ],
)  # fmt: skip
def test_praxis_launch_refuses_kindly(tmp_path, args, env, says):
    result = praxis(tmp_path, *args, **env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
