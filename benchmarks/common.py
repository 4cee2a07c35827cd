"""Helpers for side-by-side timing: alternate the commands, take medians (these machines are noisy)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def time_commands(
    commands: dict[str, list[str]], runs: int = 20, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> dict[str, float]:
    """Run each command ``runs`` times, interleaved, and return the median wall time of each."""
    full_env = dict(os.environ, **(env or {}))
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            start = time.perf_counter()
            result = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=full_env, cwd=cwd)
            samples[name].append(time.perf_counter() - start)
            if result.returncode != 0:
                sys.exit(f"{name} failed ({result.returncode}): {result.stderr.decode()[-500:]}")
    return {name: statistics.median(values) for name, values in samples.items()}


def python() -> str:
    return sys.executable


def compile_bytecode() -> None:
    """Compile escalate's bytecode, as `pip install` does for an installed package (an editable install
    writes it on first import). Without this, a machine that sets PYTHONDONTWRITEBYTECODE (this one
    does) charges every timed escalate process for compiling its source, while its dependencies load
    their cached bytecode."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(
        [python(), "-m", "compileall", "-q", str(ROOT / "escalate")], check=True, env=env, stdout=subprocess.DEVNULL
    )
