"""The ``escalate`` command: parses arguments, calls the core, prints, maps errors to exit codes."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from escalate import paths
from escalate.errors import EscalateError, UsageError
from escalate.exit_codes import ExitCode


@dataclass(frozen=True)
class AppRequest:
    """A command that opens a terminal app: the DSL's (``procedures``: the --procedures paths)
    or, with ``audit_files``, the auditor's. The launcher (:mod:`escalate.launch`) opens it."""

    procedures: Sequence[str] | None = None
    audit_files: Sequence[str] | None = None


def main(argv: list[str] | None = None, *, open_app: Callable[[AppRequest], int] | None = None) -> int:
    """Run one command; ``open_app`` opens a terminal app when the command asks for one."""
    from escalate.cli.parser import build_parser  # lazy: (the command modules import this package: imported when run)

    argv = sys.argv[1:] if argv is None else argv
    for number, arg in enumerate(argv, 1):
        if "\x00" in arg:  # no shell can pass one; a program calling us can, and no file name or text holds it
            from escalate.cli.console import print_error  # lazy: rich.console, 15 ms: an error before it needs none

            print_error(UsageError(f"argument {number} holds a NUL character"))
            return int(ExitCode.BAD_INPUT)
    # A file name in bytes that are not UTF-8 reaches Python as lone surrogates; printing it (the
    # file just exported, say) must not fail after the work is done. Standard error does the same.
    for stream in (sys.stdout, sys.stderr):  # (Python's own stderr already does; one a caller gives may not)
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if args.data_dir is not None and not str(args.data_dir).strip():  # "" would quietly mean the default store
        from escalate.cli.console import print_error  # lazy: as above

        print_error(UsageError("--data-dir is empty", hint="Give the folder for the store, or leave the option out."))
        return int(ExitCode.BAD_INPUT)
    paths.configure(args.data_dir)
    store = getattr(args, "store", None)
    if store == paths.THIS_STORE:
        store = None
    elif store is not None and not paths.is_store_url(store):
        from escalate.cli.console import print_error  # lazy: as above

        print_error(UsageError("--store needs a PostgreSQL URL", hint="Expected postgresql://HOST/DATABASE."))
        return int(ExitCode.BAD_INPUT)
    paths.configure_store(store)
    try:
        if getattr(args, "signs_before", False):  # an export carries a checkpoint of everything before it
            from escalate.cli.follow_cmd import sign_head  # lazy: keys and cryptography

            sign_head(args)
        outcome = args.handler(args)
        if isinstance(outcome, AppRequest):
            if open_app is None:
                raise UsageError("the terminal app opens from the `escalate` command, not from here")
            return open_app(outcome)
        code = int(outcome or ExitCode.OK)
        if code == ExitCode.OK and getattr(args, "signs", False):
            from escalate.cli.follow_cmd import sign_head  # lazy: keys and cryptography, after a recording

            sign_head()
        return code
    except EscalateError as exc:
        from escalate.cli.console import print_error  # lazy: rich.console, 15 ms: an error before it needs none

        print_error(exc)
        return int(exc.exit_code)
    except OSError as exc:
        # A file or folder the command needed could not be used (permissions, a full disk, a path
        # through something that is not a folder). The specific cases have their own messages;
        # this names whatever else the system refused, never as a traceback.
        from escalate.cli.console import print_error

        name = str(getattr(exc, "filename", None) or "")
        where = f"{name if len(name) <= 200 else name[:200] + '...'}: " if name else ""  # (not a path echoed whole)
        print_error(
            EscalateError(
                f"{where}{exc.strerror or exc}",
                title="File problem",
                hint="Check the path exists and that you may read and write it "
                "(`escalate locate` lists the folders escalate uses).",
            )
        )
        return int(ExitCode.BAD_INPUT)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        return int(ExitCode.OK)
