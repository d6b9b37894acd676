"""`gait-station doctor`: check everything the station needs and say what to fix.

Each check returns a :class:`Check` (ok / warning / failed, what was found, what to do). The
table is printed with ✓ / ! / ✗; the exit status is 1 when an *essential* check failed (the
station cannot capture: no writable data folder, no model, no camera, bad config, disk full,
damaged database), 0 otherwise — buttons, printers and the clock are reported but optional.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

OK, WARN, FAIL = "ok", "warn", "fail"
_MARK = {OK: "✓", WARN: "!", FAIL: "✗"}


@dataclass
class Check:
    name: str
    status: str
    detail: str
    fix: str = ""
    essential: bool = False

    @property
    def broken(self) -> bool:
        return self.status == FAIL and self.essential


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="configuration file (default: see README)")
    parser.add_argument("--data-dir", metavar="DIR", help="data folder (database, models, videos)")
    parser.add_argument(
        "--source", metavar="SPEC", help="check this camera source instead of [camera] source"
    )
    parser.add_argument(
        "--no-camera", action="store_true", help="skip opening the camera (e.g. station running)"
    )


# -- individual checks ------------------------------------------------------------------------


def check_config(path: str | None, data_dir: str | None) -> tuple[Check, Any]:
    from device.config import Config, load_config
    from device.errors import ConfigError

    try:
        cfg = load_config(path, data_dir)
    except ConfigError as exc:
        cfg = Config()
        if data_dir:
            cfg.storage.data_dir = data_dir
        return Check(
            "config", FAIL, str(exc), "fix the file (doctor continues with built-in defaults)", True
        ), cfg
    where = cfg.source_path or "built-in defaults (no config file)"
    return Check("config", OK, where), cfg


def check_data_dir(cfg: Any) -> Check:
    d = cfg.data_dir
    try:
        d.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=d, prefix=".doctor-", delete=True) as fh:
            fh.write(b"x")
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        return Check(
            "data folder",
            FAIL,
            f"{d}: {exc.strerror or exc}",
            "make it writable by the station user, or set [storage] data_dir",
            True,
        )
    return Check("data folder", OK, f"{d} is writable")


def check_disk(cfg: Any) -> Check:
    d = cfg.data_dir
    probe = d if d.exists() else next((p for p in d.parents if p.exists()), Path("/"))
    try:
        free_mb = shutil.disk_usage(probe).free / 1e6
    except OSError as exc:
        return Check("disk space", FAIL, f"cannot check {probe}: {exc.strerror}", "", True)
    need = cfg.storage.min_free_mb
    detail = f"{free_mb:,.0f} MB free on {probe} (capture needs {need} MB)"
    if free_mb < need:
        return Check("disk space", FAIL, detail, "delete old sessions or set [storage] retention_days", True)
    if free_mb < 2 * need:
        return Check("disk space", WARN, detail, "getting low: set [storage] retention_days")
    return Check("disk space", OK, detail)


def check_database(cfg: Any) -> Check:
    from device.errors import UserError

    db = cfg.data_dir / "station.db"
    if not db.exists():
        return Check("database", OK, f"{db} will be created on first run")
    import sqlite3

    from device.store import Store

    try:
        store = Store(db)
    except Exception as exc:
        return Check("database", FAIL, f"{db}: {exc}", "restore a backup or move the file away", True)
    try:
        verdict = store.integrity_check()
        n = len(store.list_sessions())
        active = [s["id"] for s in store.list_sessions() if s["status"] in ("capturing", "analysing")]
    except (sqlite3.Error, UserError) as exc:  # damaged beyond what the integrity check can report
        return Check("database", FAIL, f"{db}: {exc}", "restore a backup or move the file away", True)
    finally:
        store.close()
    if verdict != "ok":
        return Check(
            "database", FAIL, f"{db}: {verdict}", "restore a backup (sqlite3 .recover can save data)", True
        )
    extra = (
        f"; sessions {active} still marked running (a crash; they become 'interrupted' at start)"
        if active
        else ""
    )
    return Check("database", OK, f"{db}: integrity ok, {n} sessions, schema {_schema(db)}{extra}")


def _schema(db: Path) -> int:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def check_model(cfg: Any) -> Check:
    from device.pose.model import DEFAULT_MODEL_FILE, DEFAULT_MODEL_SHA256, resolve_model_path, sha256_file

    try:
        path = resolve_model_path(cfg)
    except Exception as exc:
        return Check(
            "pose model", FAIL, str(exc), "run setup.sh (downloads the model) or set [pose] model_path", True
        )
    digest = sha256_file(path)
    note = (
        "sha256 ok"
        if digest == DEFAULT_MODEL_SHA256
        else (f"sha256 {digest[:12]}… differs from the {DEFAULT_MODEL_FILE} published one")
    )
    try:
        import numpy as np

        from device.pose import MoveNetEstimator

        est = MoveNetEstimator(path, cfg.pose.num_threads, quiet=True)
        img = np.zeros((cfg.camera.height, cfg.camera.width, 3), np.uint8)
        est.estimate(img)
        t0 = time.perf_counter()
        for _ in range(5):
            est.estimate(img)
        ms = (time.perf_counter() - t0) / 5 * 1000
        runtime = est.runtime
        est.close()
    except Exception as exc:
        return Check(
            "pose model",
            FAIL,
            f"{path}: does not load ({exc})",
            "re-download it with setup.sh; check the LiteRT/tflite-runtime install",
            True,
        )
    status = OK if digest == DEFAULT_MODEL_SHA256 else WARN
    fix = "" if status == OK else "fine if you chose another MoveNet variant on purpose; else re-run setup.sh"
    return Check("pose model", status, f"{path.name}: {note}, loads ({runtime}, {ms:.0f} ms per frame)", fix)


def check_camera(cfg: Any, spec: str | None) -> Check:
    from device.camera import open_source, parse_spec, resolve_spec

    spec = spec or cfg.camera.source
    kind, arg = parse_spec(spec)
    if kind == "auto":
        spec = resolve_spec(spec)
        kind, arg = parse_spec(spec)
        if kind == "synthetic":
            return Check(
                "camera",
                WARN,
                "auto: no Pi camera stack here (Picamera2 does not import): the station films the "
                "synthetic runner, a demo, not a person",
                "on a Pi: install python3-picamera2 (apt) and create the venv with --system-site-packages",
            )
    if kind == "picamera":
        try:
            from picamera2 import Picamera2

            cams = Picamera2.global_camera_info()
        except Exception as exc:
            return Check(
                "camera",
                FAIL,
                f"Picamera2 not usable: {exc}",
                "install python3-picamera2 (apt) and create the venv with --system-site-packages",
                True,
            )
        if not cams:
            return Check(
                "camera",
                FAIL,
                "Picamera2 sees no camera",
                "check the ribbon cable and camera_auto_detect",
                True,
            )
        listed = ", ".join(str(c.get("Model", "?")) for c in cams)
        base = f"Picamera2: {len(cams)} camera(s): {listed}"
    elif kind == "synthetic":
        base = "synthetic runner (demo/testing only: no real camera)"
    elif kind == "file":
        if not Path(arg).expanduser().is_file():
            return Check("camera", FAIL, f"video file not found: {arg}", "set [camera] source", True)
        base = f"video file {arg}"
    else:
        base = f"{kind} {arg or 0}"
    try:
        src = open_source(spec, cfg, upside_down=cfg.camera.upside_down)
        t0 = time.monotonic()
        with src:
            frame = src.read()
            n = 1 if frame is not None else 0
            while frame is not None and n < 10:
                frame = src.read()
                n += frame is not None
        dt = time.monotonic() - t0
    except Exception as exc:
        return Check(
            "camera",
            FAIL,
            f"{base}: cannot read frames ({exc})",
            "check the camera is connected and not used by another program (stop the station)",
            True,
        )
    if n == 0:
        return Check(
            "camera", FAIL, f"{base}: opened but gave no frame", "check the camera or the file", True
        )
    w, h = src.size
    status = WARN if kind == "synthetic" else OK
    from device.camera.picamera import PicameraSource

    mode = f"; {src.mode.describe()}" if isinstance(src, PicameraSource) and src.mode is not None else ""
    return Check(
        "camera",
        status,
        f"{base}: {n} frames {w}×{h} in {dt:.1f} s{mode}",
        "set [camera] source to your camera" if status == WARN else "",
    )


def check_rear_camera(cfg: Any) -> Check:
    """The optional rear camera: reported, never essential (captures go on with the side view)."""
    c = check_camera(cfg, cfg.camera.rear_source)
    status = WARN if c.status == FAIL else c.status
    return Check("rear camera", status, c.detail, c.fix)


def check_gpio(cfg: Any) -> Check:
    if not cfg.gpio.enabled:
        return Check(
            "buttons/LED (GPIO)", WARN, "disabled in the config", "set [gpio] enabled = true to use buttons"
        )
    try:
        from device.controls.station import check_pins

        check_pins(cfg.gpio)
    except Exception as exc:
        return Check("buttons/LED (GPIO)", FAIL, str(exc), "fix [gpio] in the config")
    try:
        import warnings

        from gpiozero import Device

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            factory = Device.pin_factory or Device._default_pin_factory()
            Device.pin_factory = factory
    except Exception as exc:
        return Check(
            "buttons/LED (GPIO)",
            FAIL,
            f"no pin factory: {exc}",
            "on a Raspberry Pi install python3-lgpio; elsewhere set [gpio] enabled = false",
        )
    name = type(factory).__name__
    if name == "MockFactory":
        return Check(
            "buttons/LED (GPIO)",
            WARN,
            "mock pins (GPIOZERO_PIN_FACTORY=mock): no real buttons",
            "unset GPIOZERO_PIN_FACTORY on the station",
        )
    pins = f"start {cfg.gpio.start_pin}, stop {cfg.gpio.stop_pin}, LED {cfg.gpio.led_pin}"
    return Check("buttons/LED (GPIO)", OK, f"{name} ({pins})")


def check_receipt_printer(cfg: Any) -> Check:
    spec = cfg.printing.receipt_printer
    if not spec:
        return Check(
            "receipt printer",
            WARN,
            "none configured: summaries print on the CUPS queue",
            "set [printing] receipt_printer if you have one",
        )
    try:
        from device.printing.receipt import parse_spec
    except ImportError as exc:
        return Check("receipt printer", FAIL, f"printing support missing: {exc}")
    try:
        s = parse_spec(spec)
    except Exception as exc:
        return Check("receipt printer", FAIL, str(exc), "fix [printing] receipt_printer")
    if s.kind == "dummy":
        return Check("receipt printer", WARN, "dummy printer (prints nowhere)", "set the real printer")
    if s.kind == "network":
        try:
            with socket.create_connection((s.host, s.port), timeout=2):
                pass
        except OSError as exc:
            return Check(
                "receipt printer",
                FAIL,
                f"{s.describe()}: {exc.strerror or exc}",
                "switch the printer on, check its IP address and network cable",
            )
        return Check("receipt printer", OK, f"{s.describe()} answers")
    if s.kind == "file":
        p = Path(s.path)
        if not p.exists():
            return Check("receipt printer", FAIL, f"{p} does not exist", "plug in / switch on the printer")
        if not os.access(p, os.W_OK):
            return Check(
                "receipt printer", FAIL, f"{p} is not writable", "add the station user to the lp group"
            )
        return Check("receipt printer", OK, f"{s.describe()} present")
    try:
        import usb.core

        dev = usb.core.find(idVendor=s.vendor_id, idProduct=s.product_id)
    except Exception as exc:
        return Check(
            "receipt printer",
            WARN,
            f"{s.describe()}: cannot look for USB devices ({exc})",
            "install libusb-1.0-0",
        )
    if dev is None:
        return Check(
            "receipt printer",
            FAIL,
            f"{s.describe()} not connected",
            "plug in and switch on the printer (lsusb lists it)",
        )
    return Check("receipt printer", OK, f"{s.describe()} connected")


def check_cups(cfg: Any) -> Check:
    try:
        from device.printing.cups import CupsPrinter
    except ImportError as exc:
        return Check("report printer (CUPS)", FAIL, f"printing support missing: {exc}")
    queue = cfg.printing.cups_queue or None
    p = CupsPrinter(queue, timeout_s=5)
    try:
        p.check()
    except Exception as exc:
        return Check(
            "report printer (CUPS)",
            FAIL,
            str(exc),
            "start cups and add the printer (http://localhost:631), or set [printing] cups_queue",
        )
    return Check("report printer (CUPS)", OK, f"queue {queue or '(default)'} ready")


def check_norms(cfg: Any) -> Check:
    """The normal ranges every analysis is compared with: the clinic's file, else the built-in."""
    from device.errors import ConfigError
    from device.norms_file import load_norms

    path = cfg.station.norms_file
    try:
        norms = load_norms(Path(path).expanduser() if path else None)
    except ConfigError as exc:
        return Check("norms", FAIL, str(exc), "fix or remove [station] norms_file", True)
    where = f"clinic file {path}" if path else "built-in"
    return Check("norms", OK, f"{where}: {len(norms.ranges)} normal ranges")


def check_dashboard_pin(cfg: Any) -> Check:
    """The dashboard PIN: set, and set under today's rule (≥ 6 characters, not trivial)."""
    from device.errors import UserError
    from web.auth import PIN_POLICY, load_pin_hash, pin_policy

    try:
        pin_hash = load_pin_hash(cfg.data_dir, cfg.web.pin_hash)
    except UserError as exc:
        return Check("dashboard PIN", FAIL, str(exc), "run `gait-station set-pin`")
    if not pin_hash:
        return Check(
            "dashboard PIN",
            WARN,
            "no PIN set yet: the dashboard cannot be used",
            "run `gait-station set-pin`",
        )
    policy = pin_policy(cfg.data_dir)
    if policy is None:
        return Check("dashboard PIN", OK, "set in the config file ([web] pin_hash)")
    if policy < PIN_POLICY:
        return Check(
            "dashboard PIN",
            WARN,
            "set before PINs needed 6 characters: it may be a guessable 4-digit PIN",
            "run `gait-station set-pin` and choose at least 6 digits",
        )
    return Check("dashboard PIN", OK, "set (at least 6 characters, not trivial)")


def check_clock() -> Check:
    now = datetime.now().astimezone()
    if now.year < 2024:
        return Check(
            "clock",
            FAIL,
            f"the clock says {now:%Y-%m-%d %H:%M}: session dates will be wrong",
            "connect to the network once (NTP) or fit an RTC battery",
        )
    synced = None
    if shutil.which("timedatectl"):
        with contextlib.suppress(Exception):
            r = subprocess.run(
                ["timedatectl", "show", "-p", "NTPSynchronized", "--value"],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            )
            if r.returncode == 0 and r.stdout.strip() in ("yes", "no"):
                synced = r.stdout.strip() == "yes"
    detail = f"{now:%Y-%m-%d %H:%M %Z}"
    if synced is False:
        return Check(
            "clock", WARN, detail + ", not NTP-synchronised", "check the network / systemd-timesyncd"
        )
    return Check("clock", OK, detail + (", NTP-synchronised" if synced else ""))


# -- running and printing ---------------------------------------------------------------------


def run_checks(args: argparse.Namespace) -> list[Check]:
    checks: list[Check] = []
    cfg_check, cfg = check_config(args.config, args.data_dir)
    checks.append(cfg_check)
    # (name, essential, check): a check that crashes is reported under its own name, and an
    # essential one that crashes stops the station like a failed one (exit 1).
    steps: list[tuple[str, bool, Callable[[], Check]]] = [
        ("data folder", True, lambda: check_data_dir(cfg)),
        ("disk space", True, lambda: check_disk(cfg)),
        ("database", True, lambda: check_database(cfg)),
        ("pose model", True, lambda: check_model(cfg)),
    ]
    if not args.no_camera:
        steps.append(("camera", True, lambda: check_camera(cfg, args.source)))
        if cfg.camera.rear_source:
            steps.append(("rear camera", False, lambda: check_rear_camera(cfg)))
    steps += [
        ("norms", True, lambda: check_norms(cfg)),
        ("buttons/LED (GPIO)", False, lambda: check_gpio(cfg)),
        ("receipt printer", False, lambda: check_receipt_printer(cfg)),
        ("report printer (CUPS)", False, lambda: check_cups(cfg)),
        ("dashboard PIN", False, lambda: check_dashboard_pin(cfg)),
        ("clock", False, check_clock),
    ]
    for name, essential, step in steps:
        try:
            checks.append(step())
        except Exception as exc:
            checks.append(
                Check(name, FAIL, f"check crashed: {type(exc).__name__}: {exc}", "report this", essential)
            )
    return checks


def format_table(checks: list[Check]) -> str:
    width = max(len(c.name) for c in checks)
    lines = []
    for c in checks:
        lines.append(f"{_MARK[c.status]} {c.name:<{width}}  {c.detail}")
        if c.fix and c.status != OK:
            lines.append(f"  {'':<{width}}  → {c.fix}")
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    checks = run_checks(args)
    out = sys.stdout
    # getattr: stdout may be replaced by any stream (a pipe wrapper, a test capture) or be None
    enc = (getattr(out, "encoding", None) or "").lower()
    table = format_table(checks)
    if "utf" not in enc:  # a plain terminal: ASCII marks
        table = (
            table.replace("✓", "+").replace("✗", "x").replace("→", "->").replace("×", "x").replace("…", "...")
        )
    print(table, file=out)
    broken = [c.name for c in checks if c.broken]
    if broken:
        print(f"\nThe station cannot capture until this is fixed: {', '.join(broken)}.", file=out)
        return 1
    warn = sum(c.status != OK for c in checks)
    print("\nReady." + (f" ({warn} optional item(s) to look at.)" if warn else ""), file=out)
    return 0
