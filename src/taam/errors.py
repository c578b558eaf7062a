"""The base of every error TAAM raises for bad input: its message names the problem and the fix.

Entry scripts print such errors as one clear line (no traceback) and exit with status 1.
"""

import sys
from collections.abc import Iterator
from contextlib import contextmanager


class TaamError(Exception):
    """A problem with the user's input or run directory, explained in the message."""


class EvalError(TaamError, ValueError):
    """An evaluation input (run directory, minimal-pair source, config) cannot be used as given."""


class ConfigError(TaamError, ValueError):
    """A config value is unknown, of the wrong type or out of range."""


class ComparisonError(TaamError, ValueError):
    """Nothing to compare where the user pointed; the message says where to point instead."""


class BenchmarkError(TaamError, ValueError):
    """The benchmark cannot run or compare as configured; the message says what to change."""


class DataError(TaamError, ValueError):
    """The data (sources, budget, plan) cannot be used as configured."""


class LanguageError(TaamError, ValueError):
    """A language code or a language fact that the project cannot use."""


class RunDirError(TaamError, RuntimeError):
    """The run directory cannot be used as asked; the message says what to do."""


class NonFiniteLoss(TaamError, RuntimeError):
    """The loss became NaN or infinite; training stops and the last good checkpoint stays."""


class DataExhausted(RuntimeError):
    """Every language has reached its epoch cap: a normal end of training, not an error."""


@contextmanager
def exit_on_user_error() -> Iterator[None]:
    """In an entry script: print a :class:`TaamError` as one ``error:`` line and exit 1."""
    try:
        yield
    except TaamError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
