"""Printing PDFs (the full report, the A4/Letter summary) through CUPS with its own tools.

:class:`CupsPrinter` runs ``lp``/``lpstat`` (cups-client) rather than linking libcups: no extra
Python dependency, and exactly what a technician would type to check the printer. Messages are
parsed with ``LC_ALL=C``. A queue of ``None``/"" means the system's default destination;
``server`` (``host[:port]`` or a socket path) targets a CUPS other than the local one.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import tempfile
from pathlib import Path

from device.printing.errors import PrintError

log = logging.getLogger(__name__)

_REQUEST_ID = re.compile(r"request id is (\S+)-(\d+)\b")
_NOT_FOUND = ("does not exist", "Invalid destination", "No default destination", "no system default")

JOB_STATES = ("pending", "held", "processing", "stopped", "completed", "canceled", "aborted")


class CupsPrinter:
    """One CUPS queue (or the default destination)."""

    def __init__(
        self, queue: str | None = None, *, server: str | None = None, timeout_s: float = 30.0
    ) -> None:
        self.queue = queue or None
        self.server = server or None
        self.timeout_s = timeout_s

    def __repr__(self) -> str:
        return f"CupsPrinter({self.queue or 'default'}{' @ ' + self.server if self.server else ''})"

    @property
    def _name(self) -> str:
        return f"printer queue {self.queue!r}" if self.queue else "default printer"

    # -- running the tools -------------------------------------------------------------------

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [tool, *(["-h", self.server] if self.server else []), *args]
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        try:
            return subprocess.run(
                cmd, capture_output=True, text=True, timeout=self.timeout_s, env=env, check=False
            )
        except FileNotFoundError:
            raise PrintError(
                f"CUPS tools are not installed ({tool} not found): install the cups-client package"
            ) from None
        except subprocess.TimeoutExpired:
            raise PrintError(f"CUPS did not answer within {self.timeout_s:g} s ({tool})") from None

    def scheduler_running(self) -> bool:
        """Whether cupsd answers at all."""
        r = self._run("lpstat", "-r")
        return r.returncode == 0 and "scheduler is running" in r.stdout

    def _diagnose(self, stderr: str, action: str) -> PrintError:
        """Turn a failed lp/lpstat into the one thing to fix. CUPS says "printer does not exist"
        also when the scheduler is down, so ask it first."""
        msg = " ".join(stderr.split()).removeprefix("lp: ").removeprefix("lpstat: ")
        if not self.scheduler_running():
            where = f" at {self.server}" if self.server else ""
            return PrintError(f"cannot {action}: the CUPS print service{where} is not running (start cups)")
        if any(s in msg for s in _NOT_FOUND):
            if self.queue:
                return PrintError(
                    f"cannot {action}: there is no printer queue {self.queue!r} in CUPS "
                    "(check [printing] cups_queue, or add the printer)"
                )
            return PrintError(f"cannot {action}: CUPS has no default printer (set [printing] cups_queue)")
        return PrintError(f"cannot {action} on the {self._name}: {msg or 'lp failed'}")

    # -- queries -------------------------------------------------------------------------------

    def check(self) -> None:
        """Raise :class:`PrintError` saying why printing would fail now (down, missing, disabled)."""
        if self.queue is None:
            r = self._run("lpstat", "-d")
            m = re.search(r"system default destination: (\S+)", r.stdout)
            if not m:
                raise self._diagnose(r.stdout + r.stderr, "print")
            queue = m[1]
        else:
            queue = self.queue
        r = self._run("lpstat", "-p", queue)
        if r.returncode != 0 or not r.stdout.strip():
            raise self._diagnose(r.stderr, "print")
        if "disabled" in r.stdout:
            raise PrintError(f"the printer queue {queue!r} is paused in CUPS: {' '.join(r.stdout.split())}")

    def available(self) -> bool:
        """True when a job sent now would be accepted by an enabled queue."""
        try:
            self.check()
        except PrintError as exc:
            log.debug("%r not available: %s", self, exc)
            return False
        return True

    def job_state(self, job_id: str) -> str:
        """The state of a job (one of :data:`JOB_STATES`); PrintError when CUPS does not know it."""
        queue = job_id.rsplit("-", 1)[0]
        active = self._run("lpstat", "-l", "-W", "not-completed", "-o", queue)
        if active.returncode != 0:
            raise self._diagnose(active.stderr, "look up the print job")
        info = _job_block(active.stdout, job_id)
        if info is not None:
            printing = self._run("lpstat", "-p", queue)
            if re.search(rf"now printing {re.escape(job_id)}\b", printing.stdout):
                return "processing"
            if "hold" in info:
                return "held"
            if "error" in info or "failed" in info.lower() or "stopped" in info:
                return "stopped"
            return "pending"
        done = self._run("lpstat", "-l", "-W", "completed", "-o", queue)
        info = _job_block(done.stdout, job_id)
        if info is None:
            raise PrintError(f"CUPS has no print job {job_id}")
        if "cancel" in info:
            return "canceled"
        if "abort" in info:
            return "aborted"
        return "completed"

    # -- printing --------------------------------------------------------------------------------

    def print_file(
        self, path: str | Path, title: str = "", *, copies: int = 1, options: dict[str, str] | None = None
    ) -> str:
        """Queue a file (PDF) for printing; returns the CUPS job id ("QUEUE-123")."""
        p = Path(path)
        if not p.is_file():
            raise PrintError(f"nothing to print: {p} does not exist")
        if not 1 <= copies <= 99:
            raise PrintError(f"copies must be between 1 and 99, not {copies}")
        args = ["-d", self.queue] if self.queue else []
        args += ["-t", title or p.stem, "-n", str(copies)]
        for k, v in (options or {}).items():
            args += ["-o", f"{k}={v}"]
        r = self._run("lp", *args, "--", str(p))
        if r.returncode != 0:
            raise self._diagnose(r.stderr, "print")
        m = _REQUEST_ID.search(r.stdout)
        if not m:
            raise PrintError(f"CUPS accepted the job but gave no job id: {r.stdout.strip()!r}")
        job = f"{m[1]}-{m[2]}"
        log.info("printing %s on %s as job %s", p.name, self._name, job)
        return job

    def print_pdf(self, pdf: bytes, title: str, **kw: object) -> str:
        """Queue PDF bytes for printing (through a temporary file); returns the job id."""
        with tempfile.NamedTemporaryFile(prefix="gait-", suffix=".pdf") as f:
            f.write(pdf)
            f.flush()
            # lp copies the file into the spool before it returns, so the temp file may go.
            return self.print_file(f.name, title, **kw)  # type: ignore[arg-type]

    def print_summary(self, lines: list[str], title: str = "Gait summary", paper: str = "A4") -> str:
        """Print the short summary on a sheet (when there is no receipt printer)."""
        from device.printing.pdf import summary_pdf

        return self.print_pdf(summary_pdf(lines, paper=paper, title=title), title)

    def cancel(self, job_id: str) -> None:
        """Cancel a queued or printing job."""
        r = self._run("cancel", job_id)
        if r.returncode != 0:
            raise self._diagnose(r.stderr, f"cancel print job {job_id}")


def _job_block(lpstat_long: str, job_id: str) -> str | None:
    """The detail lines of ``job_id`` in ``lpstat -l -o`` output, or None when it is not listed."""
    lines = lpstat_long.splitlines()
    for i, line in enumerate(lines):
        if line.split(" ", 1)[0] == job_id:
            block = []
            for detail in lines[i + 1 :]:
                if detail and not detail[0].isspace():
                    break
                block.append(detail.strip())
            return "\n".join(block)
    return None
