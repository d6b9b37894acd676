"""A real station served (web.serve) on 127.0.0.1 in a thread (browser tests and the dashboard
bench), and the web test config and PIN it logs in with."""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from werkzeug.security import generate_password_hash

from device.config import Config
from web.app import create_app
from web.auth import save_pin_hash
from web.serve import DashboardServer

PIN = "2468"
_HASH_CACHE: dict[str, str] = {}

SHARED = Path(os.environ.get("GAIT_STATION_SHARED", Path(__file__).resolve().parents[3] / "shared"))
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pin_hash(pin: str = PIN) -> str:
    """The PIN's hash for the tests' logins: scrypt as the station stores it, with a small work
    factor (n = 1024: ~5 ms, not ~0.4 s per login). The station's own cost is web.auth.hash_pin's,
    checked in test_web_auth; check_pin reads the parameters from the hash either way."""
    if pin not in _HASH_CACHE:
        _HASH_CACHE[pin] = generate_password_hash(pin, method="scrypt:1024:8:1")
    return _HASH_CACHE[pin]


def make_config(data_dir: Path) -> Config:
    cfg = Config()
    cfg.storage.data_dir = str(data_dir)
    cfg.storage.min_free_mb = 0
    cfg.gpio.enabled = False
    cfg.web.login_attempts_per_minute = 3
    return cfg


def source_spec() -> str:
    """The synthetic runner when that source exists, else a treadmill sample clip."""
    if importlib.util.find_spec("device.camera.synthetic") is not None:
        return "synthetic"
    return str(SHARED / "samples" / "treadmill_side_slowmo.mp4")


@dataclass
class LiveRig:
    cfg: Config
    station: Any
    app: Any
    server: DashboardServer

    @property
    def url(self) -> str:
        return self.server.url

    def close(self) -> None:
        self.server.stop()
        self.station.close()


def start_rig(
    data_dir: Path,
    model_path: Path,
    *,
    duration_s: float = 4.0,
    countdown_s: int = 0,
    source: str | None = None,
    rear_source: str = "",
    **station_kw: Any,
) -> LiveRig:
    from device.station import Station

    cfg = make_config(data_dir)
    cfg.pose.model_path = str(model_path)
    cfg.pose.num_threads = 1
    cfg.capture.duration_s = duration_s  # below the config file's minimum on purpose: fast tests
    cfg.capture.countdown_s = countdown_s
    cfg.camera.rear_source = rear_source  # e.g. "synthetic:rear": a second camera from behind
    cfg.web.port = 0
    save_pin_hash(cfg.data_dir, pin_hash())
    station = Station(cfg, source_spec=source or source_spec(), **station_kw)
    station.start()
    try:
        app = create_app(station, cfg)
        server = DashboardServer(app, "127.0.0.1", 0, threads=cfg.web.threads).start()
    except BaseException:
        station.close()
        raise
    return LiveRig(cfg, station, app, server)


def launch_chromium(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def browser_login(page: Any, base: str, pin: str = PIN) -> None:
    page.goto(base + "/login")
    page.fill("#pin", pin)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
