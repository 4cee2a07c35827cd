"""The ``escalate`` command: parses arguments, calls the core, prints, maps errors to exit codes."""

from __future__ import annotations

import sys

from escalate.errors import EscalateError
from escalate.exit_codes import ExitCode


def main(argv: list[str] | None = None) -> int:
    from escalate import paths
    from escalate.cli.parser import build_parser

    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    paths.configure(args.data_dir)
    try:
        return int(args.handler(args) or ExitCode.OK)
    except EscalateError as exc:
        from escalate.cli.console import print_error

        print_error(exc)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        return int(ExitCode.OK)
