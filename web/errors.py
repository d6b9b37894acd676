"""HTTP status codes for the station's errors (one mapping for the API and the pages)."""

from __future__ import annotations

import errno

from device.errors import ConfigError, InputError, SourceError, UserError

# Matched on the class name so the web layer needs no import of every room's error module
# (capture state errors, store lookups, printing failures); first match in the MRO wins.
_BY_NAME: dict[str, int] = {
    "NotFoundError": 404,
    "SessionNotFound": 404,
    "RunnerNotFound": 404,
    "StateError": 409,
    "BusyError": 409,
    "CaptureStateError": 409,
    "WrongStateError": 409,
    "DiskFullError": 507,
    "InsufficientStorageError": 507,
    "PrintError": 502,
}


class WrongStateError(UserError):
    """The request does not fit what the station is doing (e.g. deleting a runner mid-capture)."""


def status_for(exc: BaseException) -> int:
    explicit = getattr(exc, "http_status", None)
    if isinstance(explicit, int):
        return explicit
    for cls in type(exc).__mro__:
        code = _BY_NAME.get(cls.__name__)
        if code:
            return code
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return 507
    if isinstance(exc, InputError):
        return 400
    if isinstance(exc, SourceError):
        return 503
    if isinstance(exc, ConfigError):
        return 500
    if isinstance(exc, KeyError | LookupError):
        return 404
    if isinstance(exc, UserError):
        return 400
    return 500
