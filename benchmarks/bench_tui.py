"""Issue 4 benchmark: process start to first painted frame (Textual's Ready), and peak memory.

Compares, in one run, a bare Textual app showing one label, escalate on an empty store, and escalate
on the big store (10,000 challenges / 1,000,000 entries from make_store.py). Each child runs headless,
prints the wall time since its process was spawned when Ready arrives, and its peak RSS; the dashboard
then loads its rows in a worker, and the time and memory when they are on screen are reported too.

Run: python benchmarks/bench_tui.py [--runs 10]
     python benchmarks/bench_tui.py --team benchmarks/out/follow-10000x10 [--runs 5]
       (issue 17: the app on a team store: that home's store copied into a local PostgreSQL server
       started here, against the same store on SQLite and an empty one, side by side)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import compile_bytecode

HERE = Path(__file__).resolve().parent

BARE = """
import json, resource, sys, time
from textual.app import App
from textual.widgets import Label
class Bare(App):
    def compose(self):
        yield Label("bare")
    def on_ready(self):
        print(json.dumps({"ready": time.time() - float(sys.argv[1]),
                          "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
        self.exit()
Bare().run(headless=True, size=(100, 30))
"""

ESCALATE = """
import json, resource, sys, time
from escalate.tui.app import EscalateApp
t0 = float(sys.argv[1])
out = {}
class Timed(EscalateApp):
    def on_ready(self):
        out["ready"] = time.time() - t0
        out["rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self.set_interval(0.02, self.check_loaded)
    def check_loaded(self):
        screen = self.screen
        if getattr(screen, "loaded", False):
            out["loaded"] = time.time() - t0
            out["rss_loaded"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            print(json.dumps(out))
            self.exit()
Timed().run(headless=True, size=(100, 30))
"""


def run(code: str, env: dict[str, str]) -> dict[str, float]:
    start = time.time()
    result = subprocess.run(
        [sys.executable, "-c", code, repr(start)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
    )
    if result.returncode != 0:
        sys.exit(result.stderr[-2000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def team(home: str, runs: int) -> None:
    """The app's first frame and rows on a team store, against the same store on SQLite."""
    sys.path.insert(0, str(HERE.parent))
    from tests.pgcluster import Cluster

    cluster = Cluster()
    try:
        url = cluster.database()
        py = [sys.executable, "-m", "escalate"]
        env = {**os.environ, "ESCALATE_HOME": home}
        subprocess.run([*py, "team", "init", url], env=env, check=True, capture_output=True)
        started = time.perf_counter()
        subprocess.run([*py, "store", "copy", "--to", url], env=env, check=True, capture_output=True)
        print(f"copied {home} into the team store in {time.perf_counter() - started:.1f} s")
        empty = tempfile.mkdtemp(prefix="escalate-empty-")
        cases = {
            "escalate, empty store (SQLite)": (ESCALATE, {"ESCALATE_HOME": empty}),
            "escalate, the store on SQLite": (ESCALATE, {"ESCALATE_HOME": home}),
            "escalate, the store on PostgreSQL": (ESCALATE, {"ESCALATE_HOME": home, "ESCALATE_STORE": url}),
        }
        samples: dict[str, list[dict[str, float]]] = {k: [] for k in cases}
        for _ in range(runs):
            for name, (code, extra) in cases.items():
                samples[name].append(run(code, extra))
        med = {name: {k: statistics.median(s[k] for s in rows) for k in rows[0]} for name, rows in samples.items()}
        print("| case | start to Ready (s) | rows on screen (s) |")
        print("|---|---|---|")
        for name, m in med.items():
            print(f"| {name} | {m['ready']:.3f} | {m['loaded']:.3f} |")
        e, lite, pg = (med[k] for k in cases)
        print(f"\nfirst frame, team store / empty store: {pg['ready'] / e['ready']:.2f}x")
        print(f"rows on screen, team store / the same on SQLite: {pg['loaded'] / lite['loaded']:.2f}x")
    finally:
        cluster.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--big", default=str(HERE / "out" / "home-10000x100"))
    ap.add_argument("--team", metavar="HOME", help="the app on a team store made from HOME's store (issue 17)")
    args = ap.parse_args()
    compile_bytecode()  # as an installed package has it
    if args.team:
        team(args.team, args.runs)
        return
    empty = tempfile.mkdtemp(prefix="escalate-empty-")
    cases = {
        "bare Textual app": (BARE, {}),
        "escalate, empty store": (ESCALATE, {"ESCALATE_HOME": empty}),
        "escalate, 10k challenges / 1M entries": (ESCALATE, {"ESCALATE_HOME": args.big}),
    }
    samples: dict[str, list[dict[str, float]]] = {k: [] for k in cases}
    for _ in range(args.runs):
        for name, (code, env) in cases.items():
            samples[name].append(run(code, env))
    med = {name: {k: statistics.median(s[k] for s in rows) for k in rows[0]} for name, rows in samples.items()}
    print("| case | start to Ready (s) | peak RSS at Ready (MB) | rows on screen (s) | peak RSS then (MB) |")
    print("|---|---|---|---|---|")
    for name, m in med.items():
        print(
            f"| {name} | {m['ready']:.3f} | {m['rss'] / 1024:.0f} | {m.get('loaded', float('nan')):.3f} | "
            f"{m.get('rss_loaded', float('nan')) / 1024:.0f} |"
        )
    bare, e, big = med["bare Textual app"], med["escalate, empty store"], med["escalate, 10k challenges / 1M entries"]
    print(f"\nempty store / bare app: {e['ready'] / bare['ready']:.2f}x (target <= 1.5x)")
    print(f"big store / empty store: {big['ready'] / e['ready']:.2f}x (target <= 1.1x)")
    print(
        f"big store RSS / empty store RSS at Ready: {big['rss'] / e['rss']:.2f}x (target <= 1.5x); "
        f"after the rows are loaded: {big['rss_loaded'] / e['rss_loaded']:.2f}x"
    )
    print(f"rows on screen, big store / empty store: {big['loaded'] / e['loaded']:.2f}x (target <= 1.3x)")


if __name__ == "__main__":
    main()
