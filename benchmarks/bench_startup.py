"""Cold start of `escalate procedures validate procedures/` against Python and its own dependency floor.

Target (issue 2): at most 1.5x the floor `python -c "from pydantic import BaseModel; import tomllib, rich.console"`.
Run: python benchmarks/bench_startup.py [--runs 20]
"""

from __future__ import annotations

import argparse
import sys

from common import ROOT, compile_bytecode, python, time_commands


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    compile_bytecode()  # as an installed package has it
    toml = "tomllib" if sys.version_info >= (3, 11) else "tomli as tomllib"
    medians = time_commands(
        {
            "python -c pass": [python(), "-c", "pass"],
            "dependency floor": [python(), "-c", f"from pydantic import BaseModel; import {toml}, rich.console"],
            "escalate procedures validate procedures/": [
                python(),
                "-m",
                "escalate",
                "procedures",
                "validate",
                str(ROOT / "procedures"),
            ],
        },
        runs=args.runs,
    )
    floor = medians["dependency floor"]
    print("| command | median (s) | vs floor |")
    print("|---|---|---|")
    for name, value in medians.items():
        print(f"| {name} | {value:.3f} | {value / floor:.2f}x |")
    ratio = medians["escalate procedures validate procedures/"] / floor
    print(f"\nvalidate / floor = {ratio:.2f}x (target <= 1.5x): {'MET' if ratio <= 1.5 else 'NOT MET'}")


if __name__ == "__main__":
    main()
