"""The one exception of the evaluation: its message names the problem and the fix."""


class EvalError(ValueError):
    """An evaluation input (run directory, minimal-pair source, config) cannot be used as given."""
