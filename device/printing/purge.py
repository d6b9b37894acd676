"""Removing a deleted session's print jobs from CUPS: cancelled if still queued, and their spooled
document and job history purged.

A report waiting in a paused queue holds the runner's name and health data, and prints when the
printer comes back. ``cancel -x JOB`` does not purge (CUPS 2.4 sends ``purge-jobs``, which
Cancel-Job ignores: the job is cancelled but its document stays in the spool), so the one
Cancel-Job request with ``purge-job`` goes through libcups itself (ctypes). libcups is there
wherever cups-client is (``lp`` links it): no extra dependency.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import socket
from typing import Any

from device.printing.errors import PrintError

log = logging.getLogger(__name__)

_CANCEL_JOB = 0x0008
_TAG_OPERATION = 0x01
_TAG_NAME = 0x42
_TAG_URI = 0x45
_STATUS_NOT_FOUND = 0x0406
_STATUS_OK_MAX = 0x00FF  # successful-ok and its "but ..." variants
_HTTP_ENCRYPT_IF_REQUESTED = 0
_CONNECT_TIMEOUT_MS = 5000


class _LibCups:
    """The few libcups calls a purge needs, typed for ctypes."""

    def __init__(self) -> None:
        name = ctypes.util.find_library("cups")
        if name is None:
            raise PrintError("libcups is not installed: install the cups-client package")
        lib = ctypes.CDLL(name)
        p, s, i = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int

        def fn(symbol: str, res: Any, *args: Any) -> Any:
            f = lib[symbol]
            f.restype, f.argtypes = res, list(args)
            return f

        self.set_server = fn("cupsSetServer", None, s)
        self.server = fn("cupsServer", s)
        self.port = fn("ippPort", i)
        self.user = fn("cupsUser", s)
        self.connect = fn("httpConnect2", p, s, i, p, i, i, i, i, p)
        self.close = fn("httpClose", None, p)
        self.new_request = fn("ippNewRequest", p, i)
        self.add_string = fn("ippAddString", p, p, i, i, s, s, s)
        self.add_boolean = fn("ippAddBoolean", p, p, i, s, ctypes.c_char)
        self.do_request = fn("cupsDoRequest", p, p, p, s)
        self.delete = fn("ippDelete", None, p)
        self.last_error = fn("cupsLastError", i)
        self.last_error_string = fn("cupsLastErrorString", s)


@functools.cache
def _libcups() -> _LibCups:
    return _LibCups()


def purge_job(job_id: str, server: str | None = None) -> None:
    """Cancel ``job_id`` ("QUEUE-123") if it has not printed, and purge its files and history.
    A job CUPS does not know (already purged, expired) is fine. PrintError when CUPS cannot be
    reached or refuses."""
    number = job_id.rsplit("-", 1)[-1]
    if not number.isdigit():
        raise PrintError(f"not a CUPS job id: {job_id!r}")
    lib = _libcups()
    # libcups keeps its server per thread: set it for this call, then back to the default.
    lib.set_server(server.encode() if server else None)
    try:
        host = lib.server()
        http = lib.connect(
            host, lib.port(), None, socket.AF_UNSPEC, _HTTP_ENCRYPT_IF_REQUESTED, 1, _CONNECT_TIMEOUT_MS, None
        )
        if not http:
            where = (host or b"").decode(errors="replace")
            raise PrintError(f"cannot reach the CUPS print service at {where}")
        try:
            req = lib.new_request(_CANCEL_JOB)
            uri = f"ipp://localhost/jobs/{number}".encode()
            lib.add_string(req, _TAG_OPERATION, _TAG_URI, b"job-uri", None, uri)
            lib.add_string(req, _TAG_OPERATION, _TAG_NAME, b"requesting-user-name", None, lib.user())
            lib.add_boolean(req, _TAG_OPERATION, b"purge-job", b"\x01")
            resp = lib.do_request(http, req, b"/jobs/")  # frees the request
            if resp:
                lib.delete(resp)
            status = lib.last_error()
            if status > _STATUS_OK_MAX and status != _STATUS_NOT_FOUND:
                msg = (lib.last_error_string() or b"").decode(errors="replace")
                raise PrintError(f"CUPS did not purge print job {job_id}: {msg or hex(status)}")
        finally:
            lib.close(http)
    finally:
        lib.set_server(None)


class CupsJobPurger:
    """Purges print jobs from CUPS for the store when their session is deleted; never raises."""

    def __init__(self, server: str | None = None) -> None:
        self.server = server or None

    def purge(self, job_ids: list[str]) -> list[str]:
        """Purge each job; returns those that are gone. Failures are logged in one line and the
        rest are kept by the store for the next try (CUPS down now may print them later)."""
        gone: list[str] = []
        failed: list[str] = []
        first_error = ""
        for job in job_ids:
            try:
                purge_job(job, self.server)
            except (PrintError, OSError) as exc:  # OSError: libcups there but not loadable
                failed.append(job)
                first_error = first_error or str(exc)
                continue
            gone.append(job)
        if gone:
            log.info("purged print job(s) %s of deleted sessions from CUPS", ", ".join(gone))
        if failed:
            log.warning(
                "print job(s) %s of deleted sessions not purged from CUPS (tried again later): %s",
                ", ".join(failed),
                first_error,
            )
        return gone
