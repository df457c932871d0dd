"""User-facing errors: one line that names the thing and the fix.

Every error a user can fix is a :class:`SetpieceError` (the CLI prints ``error: ...`` and
exits 1). Code that must tell errors apart catches a subclass, never matches the text:

===================  ==================================================================
class                raised when
===================  ==================================================================
BadInput             a name, version, option, file or setting given is not valid
NotFound             the thing named does not exist (asset, version, repo, scene, file)
Conflict             what was asked cannot hold together with what is there
                     (requirements that do not resolve, a concurrent change)
AlreadyPublished     a Conflict: that version is already in that repo (published
                     versions are immutable)
RemoteUnreachable    a repo, files remote, bus or server does not answer (retry later)
AccessDenied         a server refused our credentials
Unavailable          a tool or module this needs is not installed here (``pxr``, redis-py)
DiskFull             a write failed for want of space (nothing was half-written)
===================  ==================================================================
"""

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


class BadInput(SetpieceError):
    """A name, version, option, file or setting given is not valid."""


class NotFound(SetpieceError):
    """The thing named does not exist (an asset, a version, a repo, a scene, a file)."""


class Conflict(SetpieceError):
    """What was asked cannot hold together with what is there."""


class AlreadyPublished(Conflict):
    """That version is already in that repo: published versions are never overwritten."""


class RemoteUnreachable(SetpieceError):
    """A repo, files remote, bus or server does not answer (the action can be retried)."""


class AccessDenied(SetpieceError):
    """A server refused the credentials given (or asked for some)."""


class Unavailable(SetpieceError):
    """A tool or Python module this needs is not installed in this interpreter."""


class DiskFull(SetpieceError):
    """A write failed for want of space on the disk (nothing was half-written)."""


__all__ = [
    "AccessDenied",
    "AlreadyPublished",
    "BadInput",
    "Conflict",
    "DiskFull",
    "NotFound",
    "RemoteUnreachable",
    "SetpieceError",
    "Unavailable",
]
