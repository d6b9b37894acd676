"""Fixtures for the dashboard tests: a real Store, a station stand-in, the app, logged-in clients."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from device.config import Config
from device.store import Store
from tests.support.live_rig import PIN, make_config, pin_hash
from tests.web.fakes import FakeStation
from web.app import create_app
from web.auth import save_pin_hash


def csrf_from(html: str) -> str:
    m = re.search(r'name="csrf-token" content="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert m, "no CSRF token on the page"
    return m.group(1)


@pytest.fixture
def cfg(tmp_path: Path) -> Config:
    cfg = make_config(tmp_path / "data")
    cfg.station.norms_file = str(Path(__file__).with_name("sample_norms.toml"))  # sample_data's ranges
    return cfg


@pytest.fixture
def store(cfg: Config) -> Iterator[Store]:
    s = Store(cfg.data_dir / "station.db")
    yield s
    s.close()


@pytest.fixture
def station(store: Store) -> FakeStation:
    return FakeStation(store)


@pytest.fixture
def app(station: FakeStation, cfg: Config):
    save_pin_hash(cfg.data_dir, pin_hash())
    return create_app(station, cfg, testing=True)


@pytest.fixture
def client(app):
    return app.test_client()


def login(client, pin: str = PIN, ip: str = "127.0.0.1"):
    page = client.get("/login", environ_base={"REMOTE_ADDR": ip})
    token = csrf_from(page.get_data(as_text=True))
    return client.post("/login", data={"pin": pin, "csrf_token": token}, environ_base={"REMOTE_ADDR": ip})


@pytest.fixture
def logged_in(client):
    resp = login(client)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    home = client.get("/")
    client.csrf = csrf_from(home.get_data(as_text=True))  # type: ignore[attr-defined]
    return client
