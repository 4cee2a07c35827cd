"""Issue 19, item 5: what an Ed25519 signature per entry would cost, measured with `cryptography` here.

Run: python benchmarks/bench_sign.py [--n 20000]

Prints the cost of signing one entry's hash (what an append would add) and of checking one (what
verify would add per entry), beside hashing an entry's bytes (what verify does per entry now), so
the decision in RESULTS.md reads off one run.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from escalate import sshsig


def per_op(fn, n: int, rounds: int = 5) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for i in range(n):
            fn(i)
        samples.append((time.perf_counter() - start) / n)
    return statistics.median(samples)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--commands", action="store_true", help="also time a recording command with and without a key")
    args = ap.parse_args()
    key = sshsig.new_private_key()
    public = key.public_key()
    body = b"E2 1 C-0001 1 contact " + b"x" * 600  # an entry of typical size
    hashes = [hashlib.sha256(body + str(i).encode()).digest() for i in range(args.n)]
    signatures = [key.sign(h) for h in hashes]
    hashing = per_op(lambda i: hashlib.sha256(body).digest(), args.n)
    signing = per_op(lambda i: key.sign(hashes[i]), args.n)
    checking = per_op(lambda i: public.verify(signatures[i], hashes[i]), args.n)
    print(f"sha256 of one entry's bytes   {hashing * 1e6:8.1f} us")
    print(f"Ed25519 sign of one hash       {signing * 1e6:8.1f} us   (an append would add this)")
    print(f"Ed25519 verify of one hash     {checking * 1e6:8.1f} us   {checking / hashing:6.0f}x the hash")
    print(f"1,000,000 entries: verify would add {checking * 1e6:.0f} s of signature checks")


if __name__ == "__main__":
    main()


def command_cost(runs: int = 10) -> None:
    """A recording command with a signing key set up (it appends a signed checkpoint too) against the
    same command without one, side by side."""
    import subprocess
    import tempfile

    from common import time_commands

    homes = {}
    for name in ("unsigned", "signed"):
        home = Path(tempfile.mkdtemp())
        env = {"ESCALATE_HOME": str(home)}
        for argv in (["config", "set", "name", "Alex Example"], ["config", "set", "role", "DSL"]):
            subprocess.run([sys.executable, "-m", "escalate", *argv], env={**__import__("os").environ, **env},
                           check=True, capture_output=True)  # fmt: skip
        if name == "signed":
            subprocess.run([sys.executable, "-m", "escalate", "keys", "new"], env={**__import__("os").environ, **env},
                           check=True, capture_output=True)  # fmt: skip
        subprocess.run(
            [sys.executable, "-m", "escalate", "open", "--procedure", "london-children", "--trigger",
             "threshold-misapplied", "--decision", "NFA", "--case-ref", "Child Q", "--agency", "Northtown CSC",
             "--concern", "Bruising"],
            env={**__import__("os").environ, **env}, check=True, capture_output=True,
        )  # fmt: skip
        homes[name] = home
    record = [sys.executable, "-m", "escalate", "record", "1", "note", "--summary", "x"]
    # interleaved, each in its own home (env sets it per command)
    times = time_commands({name: ["env", f"ESCALATE_HOME={home}", *record] for name, home in homes.items()}, runs=runs)
    print(f"record (no key)        {times['unsigned'] * 1000:7.0f} ms")
    print(f"record (key: signs)    {times['signed'] * 1000:7.0f} ms   {times['signed'] / times['unsigned']:.2f}x")


if __name__ == "__main__" and "--commands" in sys.argv:
    command_cost()
