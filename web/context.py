"""Access to the station, its store and config from inside a request."""

from __future__ import annotations

import threading
from typing import Any

from flask import current_app

from device.config import Config


def station() -> Any:
    return current_app.extensions["gait_station"]


def store() -> Any:
    return current_app.extensions["gait_station"].store


def config() -> Config:
    return current_app.extensions["gait_config"]


def shutdown_event() -> threading.Event:
    """Set by `gait-station run` on SIGTERM/SIGINT so long-lived streams end promptly."""
    return current_app.extensions.setdefault("gait_shutdown", threading.Event())
