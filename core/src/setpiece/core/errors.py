"""User-facing errors: one line that names the thing and the fix."""

from __future__ import annotations


class SetpieceError(Exception):
    """A user mistake or an environment problem the user can fix.

    The CLI prints ``error: <message>`` on one line and exits 1; never a traceback.
    """

    exit_code = 1
    #: the full output of the tool that failed, when there was one (never shown as is)
    output: str = ""

    def __init__(self, message: str) -> None:
        # Always one line: collapse whatever a tool printed.
        super().__init__(" ".join(str(message).split()))

    @property
    def message(self) -> str:
        return str(self)
