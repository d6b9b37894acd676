"""A private CUPS scheduler with a cups-pdf queue, for printing tests.

``cups_server`` (session-scoped fixture) starts its own ``cupsd -f`` with its own config, spool
and logs in a temporary directory, listening only on a Unix socket there — it never touches the
system's cupsd, its queues or its port, and two test runs cannot collide. Tests print to it with
``CupsPrinter(queue, server=cups.server)`` (``lp -h SOCKET``) and collect the PDF that the
cups-pdf backend writes with :meth:`CupsServer.wait_for_pdf`.

Needs root (cupsd runs the cups-pdf backend as root only when it is root itself), ``cupsd``,
``lpadmin``, ``lp``, the ``cups-pdf`` backend and its PPD (Debian: cups, cups-client,
printer-driver-cups-pdf). When something is missing the tests are skipped on a developer
machine and FAIL under ``CI=true`` — a CI run must not go green without printing anything.
``setup.sh --with-tests`` installs the packages; CI runs the suite as root.

Use it from a test package's conftest.py: ``from tests.cups_server import cups_server  # noqa: F401``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import random
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from device.printing import CupsPrinter
from tests.support.timing import scaled

QUEUE = "gait-test-pdf"
PPD_GLOBS = (
    "/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd",
    "/usr/share/ppd/cups-pdf/*.ppd",
    "/usr/share/cups/model/CUPS-PDF*.ppd",
    "/usr/share/ppd/*/CUPS-PDF*.ppd",
)
BACKEND_DIRS = ("/usr/lib/cups/backend", "/usr/libexec/cups/backend")
CUPS_PDF_CONF = Path("/etc/cups/cups-pdf.conf")
START_TIMEOUT_S = scaled(15.0)  # native-speed limit, stretched under emulation


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(reason: str) -> None:
    """Skip locally, fail in CI."""
    msg = f"private CUPS not available: {reason}"
    if in_ci():
        pytest.fail(
            msg
            + " (CI=true: the printing tests are required; setup.sh --with-tests installs it; CI runs as root)"
        )
    pytest.skip(msg)


def _find_ppd() -> str | None:
    for pattern in PPD_GLOBS:
        hits = sorted(glob.glob(pattern))
        if hits:
            return hits[0]
    return None


def cups_pdf_output_dirs(user: str | None = None) -> list[Path]:
    """Where the cups-pdf backend will write a job submitted by ``user``: ``Out`` and
    ``AnonDirName`` from /etc/cups/cups-pdf.conf, then the backend's built-in defaults."""
    pw = pwd.getpwuid(os.getuid()) if user is None else pwd.getpwnam(user)
    user, home = pw.pw_name, pw.pw_dir
    conf: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in CUPS_PDF_CONF.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.strip().split(None, 1)
            if len(parts) == 2 and not parts[0].startswith("#"):
                conf[parts[0]] = parts[1].strip().strip('"')
    dirs = [
        conf.get("Out", ""),
        conf.get("AnonDirName", ""),
        "/var/spool/cups-pdf/${USER}",
        "${HOME}/PDF",
        "/var/spool/cups-pdf/ANONYMOUS",
    ]
    out: list[Path] = []
    for d in dirs:
        if d:
            p = Path(d.replace("${HOME}", home).replace("${USER}", user))
            if p not in out:
                out.append(p)
    return out


@dataclass
class CupsServer:
    """A running private cupsd: ``server`` is its socket (for ``lp -h``), ``queue`` the cups-pdf queue."""

    root: Path
    server: str
    queue: str
    process: subprocess.Popen[bytes]
    produced: list[Path] = field(default_factory=list)

    def printer(self, queue: str | None = None) -> CupsPrinter:
        return CupsPrinter(queue or self.queue, server=self.server, timeout_s=scaled(15))

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join((self.root / "log" / "error_log").read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no error_log)"

    def wait_for_pdf(self, job_id: str, timeout_s: float = 30.0) -> Path:
        """The finished PDF of ``job_id`` from the cups-pdf backend (file name ends ``-job_N.pdf``)."""
        n = job_id.rsplit("-", 1)[1]
        dirs = cups_pdf_output_dirs()
        deadline = time.monotonic() + scaled(timeout_s)
        last_size = -1
        while time.monotonic() < deadline:
            hits = [p for d in dirs for p in d.glob(f"*-job_{n}.pdf")] if dirs else []
            if hits:
                path = max(hits, key=lambda p: p.stat().st_mtime)
                size = path.stat().st_size
                # Ghostscript writes the file in pieces: done when it ends with %%EOF and stops growing.
                if size == last_size and size > 0 and b"%%EOF" in path.read_bytes()[-1024:]:
                    if path not in self.produced:
                        self.produced.append(path)
                    return path
                last_size = size
            time.sleep(0.1)
        raise AssertionError(
            f"cups-pdf wrote no PDF for {job_id} within {timeout_s:g} s in {', '.join(map(str, dirs))}\n"
            f"cupsd log:\n{self.log_tail()}"
        )


def _write_config(root: Path) -> tuple[Path, Path, str]:
    for sub in ("etc/ppd", "spool", "cache", "run", "log", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    # Filters run as user lp: they need to reach and write the temp dir.
    root.chmod(0o755)
    (root / "tmp").chmod(0o1777)
    sock = str(root / "run" / "cups.sock")
    conf = root / "cupsd.conf"
    conf.write_text(
        f"""LogLevel info
Listen {sock}
Browsing No
WebInterface No
DefaultAuthType None
MaxJobs 100
PreserveJobHistory Yes
<Location />
  Order allow,deny
  Allow all
</Location>
<Policy default>
  JobPrivateAccess all
  JobPrivateValues none
  SubscriptionPrivateAccess all
  SubscriptionPrivateValues none
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
"""
    )
    # Job numbers from a random start: cups-pdf names its output "<title>-job_<N>.pdf" in a shared
    # directory, so two test runs at once (or leftovers of an earlier one) must not share numbers.
    (root / "cache" / "job.cache").write_text(
        f"# Job cache file for CUPS\nNextJobId {random.randint(10_000, 9_000_000)}\n"
    )
    files = root / "cups-files.conf"
    files.write_text(
        f"""ServerRoot {root}/etc
RequestRoot {root}/spool
CacheDir {root}/cache
StateDir {root}/run
TempDir {root}/tmp
AccessLog {root}/log/access_log
ErrorLog {root}/log/error_log
PageLog {root}/log/page_log
SystemGroup root
"""
    )
    return conf, files, sock


def _wait_running(proc: subprocess.Popen[bytes], sock: str, root: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    env = {**os.environ, "LC_ALL": "C"}
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log = (root / "log" / "cupsd.out").read_text(errors="replace")
            raise RuntimeError(f"cupsd exited with {proc.returncode}: {log.strip()[-800:]}")
        r = subprocess.run(["lpstat", "-h", sock, "-r"], capture_output=True, text=True, env=env, check=False)
        if "scheduler is running" in r.stdout:
            return
        time.sleep(0.05)
    raise RuntimeError(f"cupsd did not start within {START_TIMEOUT_S:g} s")


@contextlib.contextmanager
def private_cups(queue: str = QUEUE) -> Iterator[CupsServer]:
    """Start a private cupsd with a cups-pdf queue; stop it and remove its files afterwards."""
    if os.geteuid() != 0:
        unavailable("needs root (cupsd runs the cups-pdf backend as root only when it is root itself)")
    # cupsd and lpadmin live in /usr/sbin, which a login user's PATH often lacks
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    found = {t: shutil.which(t, path=search) for t in ("cupsd", "lpadmin", "lp", "lpstat")}
    missing = [t for t, where in found.items() if where is None]
    if missing:
        unavailable(f"{', '.join(missing)} not installed (apt install cups cups-client)")
    if not any(Path(d, "cups-pdf").exists() for d in BACKEND_DIRS):
        unavailable("cups-pdf backend not installed (apt install printer-driver-cups-pdf)")
    ppd = _find_ppd()
    if ppd is None:
        unavailable("CUPS-PDF PPD not found (apt install printer-driver-cups-pdf)")
    if os.geteuid() != 0:
        unavailable(
            "needs root: cupsd runs the cups-pdf backend as root (setup.sh --with-tests installs it; CI runs as root)"
        )
    assert ppd is not None

    root = Path(tempfile.mkdtemp(prefix="gait-cups-", dir="/tmp"))  # short path: socket names max 107
    conf, files, sock = _write_config(root)
    out = (root / "log" / "cupsd.out").open("wb")
    proc = subprocess.Popen(
        [str(found["cupsd"]), "-f", "-c", str(conf), "-s", str(files)], stdout=out, stderr=out
    )
    server: CupsServer | None = None
    try:
        try:
            _wait_running(proc, sock, root)
            # pdftocairo keeps the text of WeasyPrint's embedded fonts extractable in the
            # cups-pdf output (the default Ghostscript path turns it into unmapped glyphs).
            r = subprocess.run(
                [
                    str(found["lpadmin"]),
                    "-h",
                    sock,
                    "-p",
                    queue,
                    "-v",
                    "cups-pdf:/",
                    "-E",
                    "-P",
                    ppd,
                    "-o",
                    "pdftops-renderer-default=pdftocairo",
                ],
                capture_output=True,
                text=True,
                check=False,
                env={**os.environ, "LC_ALL": "C"},
            )
            if r.returncode != 0:
                raise RuntimeError(f"lpadmin failed: {r.stderr.strip()}")
        except RuntimeError as exc:
            unavailable(str(exc))
        server = CupsServer(root=root, server=sock, queue=queue, process=proc)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(1)  # a throwaway scheduler: no need to wait for its state-saving shutdown
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        out.close()
        if server is not None:
            for p in server.produced:
                with contextlib.suppress(OSError):
                    p.unlink()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def cups_server() -> Iterator[CupsServer]:
    """A private cupsd with the cups-pdf queue :data:`QUEUE` (see module docstring)."""
    with private_cups() as server:
        yield server
