"""The one way escalate uses a second core: a spawned worker whose answer is never assumed."""

from __future__ import annotations

import os
import pickle
import time

import pytest

from escalate import parallel


def _square(n):
    return n * n


def _fails():
    raise ValueError("a bug in the worker")


def _exits():
    os._exit(3)


def _sleeps():
    time.sleep(60)


@pytest.fixture(autouse=True)
def two_cores(monkeypatch):
    monkeypatch.setattr(parallel, "cores", lambda: 2)  # (the CI machine has two; a laptop may have one)


def test_a_worker_answers_with_its_result():
    assert parallel.beside(_square, 12).result() == 144


@pytest.mark.parametrize("work", [_fails, _exits])
def test_a_worker_that_fails_or_dies_gives_no_answer(work):
    """The caller then does the work itself: in the case of a bug, where the exception is seen."""
    worker = parallel.beside(work)
    assert worker.result() is None
    assert worker.process is None  # waited for


def test_a_worker_that_cannot_start_gives_no_answer(monkeypatch):
    def no_process(self):
        raise OSError("no more processes")

    monkeypatch.setattr(parallel.multiprocessing.get_context("spawn").Process, "start", no_process)
    assert parallel.beside(_square, 3).result() is None


def test_one_core_starts_no_worker(monkeypatch):
    monkeypatch.setattr(parallel, "cores", lambda: 1)
    worker = parallel.beside(_square, 3)
    assert worker.process is None and worker.result() is None


def test_a_worker_no_longer_wanted_is_stopped():
    worker = parallel.beside(_sleeps)
    process = worker.process
    assert process is not None
    started = time.monotonic()
    worker.close()
    assert not process.is_alive() and time.monotonic() - started < 30


def test_it_never_forks():
    """Spawned everywhere, as Windows must: a fork copies locks and threads half-way."""
    import inspect

    source = inspect.getsource(parallel)
    assert 'get_context("spawn")' in source and "fork" not in source.replace("forked", "")


def test_a_worker_started_under_python_m_escalate_does_not_run_the_command_again(monkeypatch):
    """A spawned worker imports the parent's main module again, as __mp_main__: `python -m escalate`'s
    main module must not run the command then (an audit once ran twice, once in its own worker)."""
    import runpy

    from escalate import launch

    def ran():
        raise AssertionError("the command ran again")

    monkeypatch.setattr(launch, "run", ran)
    runpy.run_module("escalate.__main__", run_name="__mp_main__")


def test_work_that_cannot_be_handed_over_is_a_bug_raised_at_once_and_the_worker_is_stopped():
    worker = parallel.Worker()
    process = worker.process
    with pytest.raises((AttributeError, TypeError, pickle.PicklingError)):
        worker.run(lambda: 1)  # a lambda cannot be pickled
    assert worker.process is None and process is not None and not process.is_alive()
