"""The one exception of the evaluation: its message names the problem and the fix."""

from taam.errors import TaamError


class EvalError(TaamError, ValueError):
    """An evaluation input (run directory, minimal-pair source, config) cannot be used as given."""
