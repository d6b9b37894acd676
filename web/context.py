"""Access to the station, its store and config from inside a request.

The web app sees the station only as :class:`device.station_api.StationAPI`."""

from __future__ import annotations

import threading
from typing import cast

from flask import current_app

from device.config import Config
from device.station_api import StationAPI
from device.store import Store


def station() -> StationAPI:
    return cast(StationAPI, current_app.extensions["gait_station"])


def store() -> Store:
    return station().store


def config() -> Config:
    return cast(Config, current_app.extensions["gait_config"])


def shutdown_event() -> threading.Event:
    """Set by `gait-station run` on SIGTERM/SIGINT so long-lived streams end promptly."""
    return cast(threading.Event, current_app.extensions.setdefault("gait_shutdown", threading.Event()))
