"""Issue 18 benchmark: the agenda, search, the calendar file and backup at 10,000 challenges, each side
by side with what it is measured against, in one run.

Run: python benchmarks/bench_follow.py [--challenges 10000] [--per 10] [--runs 3]
(builds benchmarks/out/follow-10000x10 with make_store.py first if it is missing: every challenge
open, the agenda's worst case)
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import compile_bytecode, time_commands

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--challenges", type=int, default=10_000)
    ap.add_argument("--per", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    compile_bytecode()
    home = HERE / "out" / f"follow-{args.challenges}x{args.per}"
    home.mkdir(parents=True, exist_ok=True)
    db = home / "escalate.sqlite3"
    if not db.exists():
        subprocess.run(
            [sys.executable, str(HERE / "make_store.py"), str(db), "--challenges", str(args.challenges),
             "--per", str(args.per), "--people", "50"],
            check=True,
        )  # fmt: skip
    py = [sys.executable, "-m", "escalate"]
    env = {"ESCALATE_HOME": str(home)}
    subprocess.run([*py, "list", "--json"], env=dict(os.environ, **env), stdout=subprocess.DEVNULL, check=True)
    entries = sqlite3.connect(db).execute("SELECT count(*) FROM entries").fetchone()[0]
    print(f"store: {args.challenges} challenges (all open), {entries} entries\n")

    # 1. the search index, made from nothing (once per store), then kept up
    cold = Path(tempfile.mkdtemp()) / "escalate.sqlite3"
    shutil.copyfile(db, cold)
    with sqlite3.connect(cold) as c:
        c.execute("DROP TABLE IF EXISTS search_index")
        c.execute("DELETE FROM meta WHERE key IN ('search_upto', 'search_format')")
    start = time.perf_counter()
    subprocess.run([*py, "search", "worker", "7"], env=dict(os.environ, ESCALATE_HOME=str(cold.parent)),
                   stdout=subprocess.DEVNULL, check=True)  # fmt: skip
    print(f"first search, making the index of {entries} entries: {time.perf_counter() - start:.2f} s (once)")
    shutil.rmtree(cold.parent)
    subprocess.run([*py, "search", "x"], env=dict(os.environ, **env), stdout=subprocess.DEVNULL, check=True)

    # 2. processes side by side: list (the dashboard's reading), agenda, search, calendar
    ics = Path(tempfile.mkdtemp()) / "d.ics"
    times = time_commands(
        {
            "list --json": [*py, "list", "--json"],
            "agenda --json": [*py, "agenda", "--json"],
            "search 'Worker 7'": [*py, "search", "Worker", "7", "--json"],
            "calendar": [*py, "calendar", "-o", str(ics), "--force"],
        },
        runs=args.runs,
        env=env,
    )
    base = times["list --json"]
    for name, value in times.items():
        print(f"{name:18} {value:7.2f} s   {value / base:5.2f} x list")

    # 3. in one process: the index's answer against reading every entry (what search would be without it)
    from escalate.journal import store_at

    store = store_at(db, create=False)
    conn = sqlite3.connect(db)
    indexed, scanned = [], []
    for _ in range(5):
        t = time.perf_counter()
        hits = store.search(["worker", "7"], 1000)
        indexed.append(time.perf_counter() - t)
        t = time.perf_counter()
        rows = conn.execute(
            "SELECT e.challenge FROM entries e JOIN disclosures d ON d.seq = e.seq "
            "WHERE CAST(d.bytes AS TEXT) LIKE '%Worker 7%' UNION SELECT challenge FROM entries "
            "WHERE CAST(body AS TEXT) LIKE '%Worker 7%'"
        ).fetchall()
        scanned.append(time.perf_counter() - t)
    store.close()
    i, s = statistics.median(indexed), statistics.median(scanned)
    print(f"\nsearch in the index {i * 1000:.1f} ms vs a scan of every entry {s * 1000:.1f} ms: {s / i:.0f}x faster"
          f" ({len(hits)} entries found; the scan found {len(rows)} challenges)")  # fmt: skip

    # 4. backup (online copy, then verify) against a plain copy of the file, and verify alone
    target = Path(tempfile.mkdtemp())
    times = time_commands(
        {
            "copy the file": [
                sys.executable,
                "-c",
                f"import shutil; shutil.copyfile({str(db)!r}, {str(target / 'c')!r})",
            ],
            "verify": [*py, "verify", "--chain-only"],
            "backup": [*py, "backup", str(target / "b.sqlite3"), "--force"],
        },
        runs=args.runs,
        env=env,
    )
    for name, value in times.items():
        print(f"{name:18} {value:7.2f} s   {value / times['verify']:5.2f} x verify")
    shutil.rmtree(target)
    shutil.rmtree(ics.parent)


if __name__ == "__main__":
    main()
