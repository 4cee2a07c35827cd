"""Exit statuses of the ``escalate`` command, in one place."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    #: a check ran and found a problem (verification failed, items overdue when asked to fail on them)
    CHECK_FAILED = 1
    #: the input was wrong: a bad argument, file, procedure or value
    BAD_INPUT = 2
    #: the store could not be used: locked, read-only, corrupt, disk full
    STORE = 3
    #: interrupted by the user (Ctrl+C)
    INTERRUPTED = 130
