"""The Makefile's choice of Python and its .venv stamps, checked with stub interpreters.

The machine may have no real Python 3.10, so ``python3`` here is a shim that answers like
an old interpreter: it fails every command (the version check included). ``python3.11``
is the interpreter running the tests. PATH holds nothing else, so whatever Python the
machine really has cannot leak in. ``make -n`` prints what would run without running it;
only the version checks (in ``$(shell …)`` and the ``python`` target) really execute.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
MAKE = shutil.which("make")

pytestmark = pytest.mark.skipif(MAKE is None, reason="needs make")

OLD_PYTHON = """#!/bin/sh
# An interpreter too old for Praxis: it says so and fails whatever it is asked.
echo "Python 3.10.12 (stub)" >&2
exit 1
"""


def stub_bin(tmp_path: Path, *, with_311: bool = True) -> Path:
    bin_dir = tmp_path / "stub-bin"
    bin_dir.mkdir()
    old = bin_dir / "python3"
    old.write_text(OLD_PYTHON)
    old.chmod(0o755)
    if with_311:
        (bin_dir / "python3.11").symlink_to(sys.executable)
    return bin_dir


def project(tmp_path: Path) -> Path:
    """A copy of the Makefile next to a pyproject.toml, as a fresh clone has them."""
    root = tmp_path / "praxis"
    root.mkdir()
    shutil.copy(REPO_ROOT / "Makefile", root / "Makefile")
    shutil.copy(REPO_ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def make(root: Path, bin_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHON", "MAKEFLAGS")}
    environ["PATH"] = str(bin_dir)
    return subprocess.run(
        [MAKE, "--no-print-directory", *args],
        cwd=root,
        env=environ,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def built_venv(root: Path, python: Path, *stamps: str) -> None:
    """A .venv as the Makefile leaves it: its python, the base stamp, the given stamps."""
    venv_bin = root / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "python").symlink_to(python)
    for stamp in (".base", *stamps):
        (root / ".venv" / stamp).touch()


def test_make_picks_python_311_over_an_old_python3(tmp_path: Path) -> None:
    root, bin_dir = project(tmp_path), stub_bin(tmp_path)
    result = make(root, bin_dir, "-n", "test")
    assert result.returncode == 0, result.stderr
    assert "python3.11 -m venv .venv" in result.stdout
    assert "python3 -m venv" not in result.stdout
    shown = make(root, bin_dir, "python")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("python3.11: Python 3.")


def test_make_without_python_311_refuses_with_one_sentence(tmp_path: Path) -> None:
    root, bin_dir = project(tmp_path), stub_bin(tmp_path, with_311=False)
    result = make(root, bin_dir, "test")
    assert result.returncode != 0
    assert "Praxis needs Python 3.11 or newer" in result.stderr
    assert not (root / ".venv").exists()


def test_a_venv_built_by_an_old_python_is_rebuilt(tmp_path: Path) -> None:
    root, bin_dir = project(tmp_path), stub_bin(tmp_path)
    built_venv(root, bin_dir / "python3", ".installed-run", ".installed-dev")
    result = make(root, bin_dir, "-n", "test")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "rm -rf .venv" in lines
    assert lines.index("rm -rf .venv") < lines.index("python3.11 -m venv .venv")
    assert '.venv/bin/python -m pip install --quiet -e ".[dev]"' in lines


def test_a_half_built_venv_is_rebuilt(tmp_path: Path) -> None:
    root, bin_dir = project(tmp_path), stub_bin(tmp_path)
    built_venv(root, Path(sys.executable))
    (root / ".venv" / ".base").unlink()  # venv made, then pip failed before the stamp
    result = make(root, bin_dir, "-n", "run")
    assert "rm -rf .venv" in result.stdout.splitlines()


def test_run_installs_only_what_running_needs_and_test_then_adds_dev(tmp_path: Path) -> None:
    root, bin_dir = project(tmp_path), stub_bin(tmp_path)
    built_venv(root, Path(sys.executable))
    run = make(root, bin_dir, "-n", "run").stdout.splitlines()
    assert "rm -rf .venv" not in run  # a good .venv is kept
    assert ".venv/bin/python -m pip install --quiet -e ." in run
    assert not any("[dev]" in line or "[demo]" in line for line in run)
    (root / ".venv" / ".installed-run").touch()  # as if `make run` had finished
    test = make(root, bin_dir, "-n", "test").stdout.splitlines()
    assert '.venv/bin/python -m pip install --quiet -e ".[dev]"' in test
    demo = make(root, bin_dir, "-n", "demo").stdout.splitlines()
    assert '.venv/bin/python -m pip install --quiet -e ".[demo]"' in demo
    slack = make(root, bin_dir, "-n", "demo-slack").stdout.splitlines()
    assert ".venv/bin/praxis demo --platform slack --out praxis-demo-slack" in slack
    assert not any("[demo]" in line for line in slack)  # slacksim ships with Praxis
