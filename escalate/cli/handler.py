"""A command's handler, imported only when its command runs: a command pays for its own imports
and no other's (the log's entry format costs `procedures validate` 30 ms, Textual 0.2 s)."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from typing import Any


def lazy(module: str, name: str) -> Callable[[argparse.Namespace], Any]:
    """The function ``name`` of ``module``, imported at the first call."""

    def run(args: argparse.Namespace) -> Any:
        return getattr(importlib.import_module(module), name)(args)

    return run
