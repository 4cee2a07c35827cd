from escalate.cli import run

raise SystemExit(run())
