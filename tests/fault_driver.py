"""Run ``src/train.py`` with a SIGKILL at an exact point: ``python fault_driver.py <when> <args>``.

``<when>`` is ``before-rename:<name>:<n>`` / ``after-rename:<name>:<n>`` (the n-th
``os.replace`` onto a path named ``<name>``) or ``call:<module>:<function>:<n>`` (the n-th
call of that function). The process kills itself there, as an OOM killer or a node failure
would: no handler, no cleanup.
"""

from __future__ import annotations

import importlib
import os
import runpy
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def kill_at_rename(when: str, name: str, nth: int) -> None:
    real, seen = os.replace, [0]

    def replace(src, dst, *args, **kwargs):
        hit = Path(dst).name == name and (seen.__setitem__(0, seen[0] + 1) or seen[0] == nth)
        if hit and when == "before-rename":
            die()
        real(src, dst, *args, **kwargs)
        if hit and when == "after-rename":
            die()

    os.replace = replace


def kill_at_call(module: str, function: str, nth: int) -> None:
    owner = importlib.import_module(module)
    real, seen = getattr(owner, function), [0]

    def wrapped(*args, **kwargs):
        seen[0] += 1
        if seen[0] == nth:
            die()
        return real(*args, **kwargs)

    setattr(owner, function, wrapped)


def main() -> None:
    when, *args = sys.argv[1:]
    kind, *where = when.split(":")
    if kind == "call":
        kill_at_call(where[0], where[1], int(where[2]))
    else:
        kill_at_rename(kind, where[0], int(where[1]))
    sys.argv = [str(ROOT / "src/train.py"), *args]
    runpy.run_path(str(ROOT / "src/train.py"), run_name="__main__")


if __name__ == "__main__":
    main()
