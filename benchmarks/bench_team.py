"""Issue 17 benchmark: the team store on a local PostgreSQL server (started here, as the tests start it).

Run: python benchmarks/bench_team.py [--appends 1000] [--writers 1,4,16] [--verify-store PATH]

1. Appends: each writer a separate process (as separate desks are), a DSL of one setting with a
   challenge of their own, recording notes back to back through `journal.record`; per-append wall
   time (durable at commit), pooled across writers: p50, p99, and appends per second overall.
2. verify of a store copied in with `escalate store copy` (default: the 100,000-entry store the
   audit benchmark makes), against a bare sha256 chain over the same bytes in memory; and the same
   store's whole verify on SQLite, side by side.
3. `list` of the copied store's challenges (whole process), on the team store and on SQLite.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from tests.pgcluster import Cluster  # noqa: E402  (the repository's root first)

WRITER = """
import sys, time
from escalate import journal
from escalate.settings import Settings
from tests.logtools import open_fictional
n = int(sys.argv[1])
with journal.open_store() as s:
    me = Settings()
    opened = journal.open_challenge(
        s, __import__("escalate.catalogue", fromlist=["x"]).discover(), me, procedure_id="lincolnshire-joint",
        triggers=["disputed-referral"], case_ref="Child Q (fictional)", agency="Northtown CSC",
        decision="No further action", concern="Bruising seen twice")
    sys.stdout.write("ready\\n"); sys.stdout.flush()
    sys.stdin.readline()  # every writer starts together
    times = []
    for i in range(n):
        t = time.perf_counter()
        journal.record(s, me, opened.challenge, "note", {"summary": f"note {i}"})
        times.append(time.perf_counter() - t)
    print(" ".join(f"{x:.6f}" for x in times))
"""


def appends(cluster: Cluster, writers: int, n: int) -> tuple[float, float, float]:
    """(p50 ms, p99 ms, appends per second) of ``writers`` processes appending ``n`` notes each."""
    from escalate import pgstore

    url = cluster.database()
    pgstore.create(url)
    procs = []
    for w in range(writers):
        login = f"bench_{os.getpid()}_{writers}_{w}"
        pgstore.add_person(url, login, f"Deputy {w}", "Deputy DSL", f"Fictional School {w}", "dsl", [])
        env = dict(os.environ, ESCALATE_STORE=url.replace("user=postgres", f"user={login}"), PYTHONPATH=str(ROOT))
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", WRITER, str(n)],
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        )
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    start = time.perf_counter()
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    samples: list[float] = []
    for p in procs:
        out, _ = p.communicate(timeout=600)
        assert p.returncode == 0
        samples += [float(x) for x in out.split()]
    wall = time.perf_counter() - start
    samples.sort()
    return statistics.median(samples) * 1e3, samples[int(len(samples) * 0.99) - 1] * 1e3, len(samples) / wall


def timed(argv: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    r = subprocess.run(argv, env=dict(os.environ, **env), capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--appends", type=int, default=1000)  # (a p99 of 300 a writer moved a lot run to run)
    ap.add_argument("--writers", default="1,4,16")
    ap.add_argument("--verify-store", default=str(HERE / "out" / "audit-10000x10" / "pristine.sqlite3"))
    args = ap.parse_args()
    cluster = Cluster()
    try:
        print(f"PostgreSQL: {cluster.bindir}; writers as separate processes, {args.appends} appends each")
        for writers in map(int, args.writers.split(",")):
            p50, p99, rate = appends(cluster, writers, args.appends)
            print(f"{writers:>2} writer(s): append p50 {p50:.2f} ms, p99 {p99:.2f} ms, {rate:,.0f} appends/s")

        source = Path(args.verify_store)
        if not source.exists():
            print(f"(no {source}: run benchmarks/bench_export.py first for the verify and list figures)")
            return
        url = cluster.database()
        from escalate import pgstore

        pgstore.create(url)
        home = Path(cluster.root) / "desk"
        home.mkdir()
        (home / "escalate.sqlite3").write_bytes(source.read_bytes())
        py = [sys.executable, "-m", "escalate"]
        t = timed([*py, "store", "copy", "--to", url], {"ESCALATE_HOME": str(home)})
        import sqlite3

        conn = sqlite3.connect(home / "escalate.sqlite3")
        bodies = [bytes(r[0]) for r in conn.execute("SELECT body FROM entries ORDER BY seq")]
        conn.close()
        print(f"store copy of {len(bodies):,} entries into the team store: {t:.1f} s")
        bare = []
        for _ in range(3):
            s = time.perf_counter()
            prev = b""
            for b in bodies:
                prev = hashlib.sha256(prev + b).digest()
            bare.append(time.perf_counter() - s)
        # a trust's lead reads through row-level security; the administrator's login does not
        pgstore.add_person(url, "bench_lead", "Lee Fictional", "Trust safeguarding lead", "Fictional Trust", "lead", [])
        lead = url.replace("user=postgres", "user=bench_lead")
        team_v, desk_v, team_l, desk_l, lead_v, lead_l = [], [], [], [], [], []
        for _ in range(3):
            team_v.append(timed([*py, "verify", "--chain-only"], {"ESCALATE_STORE": url}))
            lead_v.append(timed([*py, "verify", "--chain-only"], {"ESCALATE_STORE": lead}))
            desk_v.append(timed([*py, "verify", "--chain-only"], {"ESCALATE_HOME": str(home)}))
            team_l.append(timed([*py, "list", "--json"], {"ESCALATE_STORE": url}))
            lead_l.append(timed([*py, "list", "--json"], {"ESCALATE_STORE": lead}))
            desk_l.append(timed([*py, "list", "--json"], {"ESCALATE_HOME": str(home)}))
        b, tv, dv = statistics.median(bare), statistics.median(team_v), statistics.median(desk_v)
        print(
            f"verify --chain-only: team store {tv:.2f} s, SQLite {dv:.2f} s; bare sha256 chain in memory {b:.2f} s: "
            f"team store at {b / tv:.0%} (target >= 30%), SQLite at {b / dv:.0%}"
        )
        lv = statistics.median(lead_v)
        print(f"verify --chain-only as the trust's lead (row-level security): {lv:.2f} s, at {b / lv:.0%}")
        print(f"list --json as the lead: {statistics.median(lead_l):.2f} s")
        # the whole verify (chain, then every cached fold, list row and glance folded again), once each,
        # after the lists above have made both stores' caches
        team_f = timed([*py, "verify"], {"ESCALATE_STORE": url})
        desk_f = timed([*py, "verify"], {"ESCALATE_HOME": str(home)})
        print(f"verify (chain and caches): team store {team_f:.1f} s, SQLite {desk_f:.1f} s")
        print(
            f"list --json of the copied store: team store {statistics.median(team_l):.2f} s, "
            f"SQLite {statistics.median(desk_l):.2f} s (target < 1 s)"
        )
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
