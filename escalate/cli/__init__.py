"""The ``escalate`` command: parses arguments, calls the core, prints, maps errors to exit codes."""

from __future__ import annotations

import sys

from escalate.errors import EscalateError
from escalate.exit_codes import ExitCode


def main(argv: list[str] | None = None) -> int:
    from escalate import paths
    from escalate.cli.parser import build_parser

    argv = sys.argv[1:] if argv is None else argv
    for number, arg in enumerate(argv, 1):
        if "\x00" in arg:  # no shell can pass one; a program calling us can, and no file name or text holds it
            from escalate.cli.console import print_error
            from escalate.errors import UsageError

            print_error(UsageError(f"argument {number} holds a NUL character"))
            return int(ExitCode.BAD_INPUT)
    # A file name in bytes that are not UTF-8 reaches Python as lone surrogates; printing it (the
    # file just exported, say) must not fail after the work is done. Standard error does the same.
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="backslashreplace")
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    paths.configure(args.data_dir)
    try:
        return int(args.handler(args) or ExitCode.OK)
    except EscalateError as exc:
        from escalate.cli.console import print_error

        print_error(exc)
        return int(exc.exit_code)
    except OSError as exc:
        # A file or folder the command needed could not be used (permissions, a full disk, a path
        # through something that is not a folder). The specific cases have their own messages;
        # this names whatever else the system refused, never as a traceback.
        from escalate.cli.console import print_error

        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print_error(EscalateError(f"{where}{exc.strerror or exc}", title="File problem",
                                  hint="Check the path exists and that you may read and write it "
                                       "(`escalate locate` lists the folders escalate uses)."))
        return int(ExitCode.BAD_INPUT)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        return int(ExitCode.OK)


def run() -> int:
    """The installed command (``escalate`` and ``python -m escalate``): :func:`main`, then a quick exit.

    A command lives for a moment and builds few reference cycles, so Python's cyclic collector
    is off while it runs: it would walk every object again and again (10% of a list of 10,000
    challenges, more of an export) and free next to nothing. The terminal apps, which live long,
    turn it back on as they start. Once the command is done, every object still alive dies
    with the process; freezing them keeps the collections at shutdown from walking them all.
    Files and the store are closed by the commands themselves, never left to the collector, so
    nothing is lost by it. Tests call :func:`main`, which leaves the collector alone.
    """
    import gc

    gc.disable()
    code = main()
    gc.freeze()
    return code
