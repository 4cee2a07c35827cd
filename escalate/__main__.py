from escalate.launch import run

# Guarded: a worker process (escalate.parallel, started by spawn) imports the main module again, as
# "__mp_main__", and must not run the command a second time.
if __name__ == "__main__":
    raise SystemExit(run())
