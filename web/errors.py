"""HTTP status codes for the station's errors (one mapping for the API and the pages)."""

from __future__ import annotations

import errno

from device.errors import ConfigError, DiskFullError, InputError, SourceError, UserError
from device.printing.errors import PrintError
from device.store.db import NotFoundError


class WrongStateError(UserError):
    """The request does not fit what the station is doing (e.g. deleting a runner mid-capture)."""


class BusyError(UserError):
    """The station is busy with another heavy export: try again after ``retry_after_s``."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


def status_for(exc: BaseException) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, WrongStateError):
        return 409
    if isinstance(exc, BusyError):
        return 503
    if isinstance(exc, DiskFullError):
        return 507
    if isinstance(exc, PrintError):
        return 502
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
