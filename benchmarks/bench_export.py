"""Issue 5 benchmark: export of 100,000 entries (jsonl, csv), a PDF of a 1,000-entry chronology, and
`escalate audit` over 10,000 challenges. Whole processes, medians of --runs.

Run: python benchmarks/bench_export.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import compile_bytecode

HERE = Path(__file__).resolve().parent


def store(name: str, challenges: int, per: int) -> Path:
    """A generated store, kept as a pristine copy: every timed run starts from the same entries (an
    export appends its own `exported` entries, which would grow the store run after run)."""
    home = HERE / "out" / name
    home.mkdir(parents=True, exist_ok=True)
    pristine = home / "pristine.sqlite3"
    if not pristine.exists():
        db = home / "escalate.sqlite3"
        for f in home.glob("escalate.sqlite3*"):
            f.unlink()
        subprocess.run(
            [sys.executable, str(HERE / "make_store.py"), str(db), "--challenges", str(challenges), "--per", str(per)],
            check=True,
        )
        conn = sqlite3.connect(db)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        shutil.copyfile(db, pristine)
    (home / "settings.toml").write_text('name = "Bench"\nrole = "DSL"\n')
    return home


def restore(home: Path) -> None:
    for f in home.glob("escalate.sqlite3*"):
        f.unlink()
    shutil.copyfile(home / "pristine.sqlite3", home / "escalate.sqlite3")
    # The copy leaves the store's megabytes waiting in the page cache; without this, the timed
    # command's first fsync would wait for the system to write them all out (0.1-0.15 s here).
    os.sync()


def timed(argv: list[str], home: Path, runs: int) -> float:
    samples = []
    for i in range(runs):
        out = HERE / "out" / f"result-{i}"
        for f in out.parent.glob(f"result-{i}.*"):
            f.unlink()
        restore(home)
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "escalate", *[a.replace("OUT", str(out)) for a in argv]],
            env={**os.environ, "ESCALATE_HOME": str(home)},
            capture_output=True,
            text=True,
        )
        samples.append(time.perf_counter() - start)
        if result.returncode not in (0, 1):
            sys.exit(result.stderr[-1000:])
    return statistics.median(samples)


ONE_PROCESS = "import sys, escalate.audit_file as a; a.SMALL = 10**12; from escalate.launch import run; sys.exit(run())"


def timed_pair(argv: list[str], home: Path, runs: int) -> tuple[float, float]:
    """Medians of ``escalate ARGV`` as shipped and with the two-process audit turned off, run in turns."""
    env = {**os.environ, "ESCALATE_HOME": str(home)}
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for i, prefix in enumerate((["-m", "escalate"], ["-c", ONE_PROCESS])):
            start = time.perf_counter()
            result = subprocess.run([sys.executable, *prefix, *argv], env=env, capture_output=True, text=True)
            samples[i].append(time.perf_counter() - start)
            if result.returncode != 0:
                sys.exit(result.stderr[-1000:])
    return statistics.median(samples[0]), statistics.median(samples[1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    compile_bytecode()  # as an installed package has it
    hundred_k = store("export-1000x100", 1000, 100)
    one_k = store("export-1x1000", 1, 1000)
    ten_k = store("audit-10000x10", 10000, 10)
    rows = [
        (
            "export 100,000 entries to jsonl",
            timed(["export", "--all", "--format", "jsonl", "-o", "OUT.jsonl"], hundred_k, args.runs),
            "< 1.5 s",
        ),
        (
            "export 100,000 entries to csv",
            timed(["export", "--all", "--format", "csv", "-o", "OUT.csv"], hundred_k, args.runs),
            "<= 2x the jsonl export",
        ),
        (
            "PDF of a 1,000-entry chronology",
            timed(["export", "1", "--format", "pdf", "-o", "OUT.pdf"], one_k, args.runs),
            "< 5 s",
        ),
        (
            "audit --store over 10,000 challenges (100,000 entries)",
            timed(["audit", "--store", "--json"], ten_k, args.runs),
            "< 3 s",
        ),
    ]
    # the auditor's usual input: the same 10,000 challenges as one exported file
    restore(ten_k)
    exported = HERE / "out" / "audit-10000x10.jsonl"
    exported.unlink(missing_ok=True)
    subprocess.run(
        [sys.executable, "-m", "escalate", "export", "--all", "-o", str(exported)],
        check=True,
        env={**os.environ, "ESCALATE_HOME": str(ten_k)},
        capture_output=True,
    )
    # two processes (as shipped) and one (the split turned off), interleaved so both see the same machine
    split, single = timed_pair(["audit", str(exported), "--json"], ten_k, args.runs)
    rows.append(("audit of that store exported to one jsonl file", split, "< 3 s"))
    rows.append(("the same audit in one process (for comparison)", single, "(none)"))
    print("| measure | median (s) | target |")
    print("|---|---|---|")
    for name, seconds, target in rows:
        print(f"| {name} | {seconds:.2f} | {target} |")
    print(f"\ncsv / jsonl: {rows[1][1] / rows[0][1]:.2f}x (target <= 2x)")


if __name__ == "__main__":
    main()
