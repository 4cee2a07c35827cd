"""Work beside this process: the one way escalate puts a second core to work.

Verifying a big store and auditing a big exported file each split their work in two: this process
does one part while a worker process does the other (:func:`beside`). The worker is a fresh Python
started by ``multiprocessing``'s spawn method on every platform, as Windows has to: nothing is
forked, so no lock or thread of this process is copied half-way, and the same code runs on a school
desk's Windows as in CI. It runs one module-level function with picklable arguments and sends back
its picklable result.

A worker's answer is never assumed. If it cannot start, dies, or is not wanted any more, the caller
gets None and does that part itself: the result is the same either way, only slower.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Generic, TypeVar

T = TypeVar("T")


def cores() -> int:
    """Cores this process may use: a worker on a machine with one would only take turns with it."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux (Windows, macOS): every core the machine has
        return os.cpu_count() or 1


def _serve(conn: Connection) -> None:
    """In the worker: wait for the work (the caller sends it once it has it ready), do it, and send the
    result. An exception ends the worker without an answer (the caller then does the work itself,
    where the same exception is raised and seen)."""
    try:
        work, args = conn.recv()
        conn.send(work(*args))
    except EOFError:  # the caller closed: it no longer wants anything done
        pass
    finally:
        conn.close()


class Worker(Generic[T]):
    """A worker process, started at once (a fresh Python takes a few tenths of a second to start, which
    the caller spends getting the work ready), then handed one piece of work (:meth:`run`); :meth:`result`
    waits for its answer."""

    def __init__(self) -> None:
        self.process: multiprocessing.process.BaseProcess | None = None
        self.conn: Connection | None = None
        if cores() < 2:
            return
        context = multiprocessing.get_context("spawn")  # everywhere: see above
        ours, theirs = context.Pipe()
        process = context.Process(target=_serve, args=(theirs,), daemon=True, name="escalate-worker")
        try:
            process.start()
        except OSError:  # no second process (a limit on processes, say): the caller does the work
            ours.close()
            theirs.close()
            return
        theirs.close()  # the worker holds its end: when it ends, reading ours stops
        self.process, self.conn = process, ours

    def run(self, work: Callable[..., T], *args: object) -> Worker[T]:
        """Hand the worker ``work(*args)`` (``work``: a module-level function; the arguments are pickled)."""
        if self.conn is not None:
            sent = False
            try:
                self.conn.send((work, args))
                sent = True
            except OSError:  # it has already ended
                pass
            finally:
                if not sent:  # (work that cannot be pickled is a bug, raised here: the worker is stopped first)
                    self.close()
        return self

    def result(self) -> T | None:
        """The worker's result, or None if it gave none (it could not start, or failed)."""
        if self.conn is None:
            return None
        try:
            value: T = self.conn.recv()
        except (EOFError, OSError):  # it ended without an answer
            return None
        finally:
            self.close()
        return value

    def close(self) -> None:
        """Stop the worker if it is still working (its answer is not wanted), and wait for its end."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        if self.process is not None:
            if self.process.is_alive():
                self.process.kill()
            self.process.join()
            self.process = None


def beside(work: Callable[..., T], *args: object) -> Worker[T]:
    """Start ``work(*args)`` in a worker process (``work`` must be a module-level function)."""
    return Worker[T]().run(work, *args)
