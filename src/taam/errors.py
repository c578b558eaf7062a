"""The base of every error TAAM raises for bad input: its message names the problem and the fix.

Entry scripts print such errors as one clear line (no traceback) and exit with status 1.
"""


class TaamError(Exception):
    """A problem with the user's input or run directory, explained in the message."""
