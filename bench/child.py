"""Running a measurement in a fresh interpreter, as every start-up-sensitive bench does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str) -> list[str]:
    """``python -c code`` from the project's root; its stdout's lines. A failed run stops
    the bench with the child's stderr (the end of it), not a half-measured figure."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=ROOT
    )
    if done.returncode != 0:
        raise SystemExit(f"measured run failed:\n{done.stderr[-3000:]}")
    return done.stdout.rstrip().splitlines()
