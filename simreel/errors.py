"""The one exception type the CLI turns into a plain message (kept apart from cli.py so
`python -m simreel.cli` and the console script catch the same class)."""


class UserError(Exception):
    """A problem the user can fix; printed as one message, no traceback."""
