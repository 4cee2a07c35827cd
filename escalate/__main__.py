from escalate.launch import run

raise SystemExit(run())
