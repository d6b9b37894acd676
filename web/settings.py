"""Flask config objects built from the station's :class:`device.config.Config`."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from device.config import Config
from device.errors import UserError

SECRET_KEY_FILE = "secret_key"


class BaseSettings:
    """What every deployment shares: hardened session cookie, small request bodies."""

    SESSION_COOKIE_NAME = "gait_station"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Strict"
    SESSION_COOKIE_SECURE = False  # plain HTTP on the clinic LAN; the cookie is still HttpOnly+Strict
    SESSION_REFRESH_EACH_REQUEST = True
    MAX_CONTENT_LENGTH = 256 * 1024  # forms and JSON only: no uploads
    JSON_SORT_KEYS = False
    TEMPLATES_AUTO_RELOAD = False
    SEND_FILE_MAX_AGE_DEFAULT = 3600
    TESTING = False


class TestingSettings(BaseSettings):
    TESTING = True


def load_or_create_secret_key(data_dir: Path) -> str:
    """The session-signing key: generated once, kept in ``<data_dir>/secret_key`` (0600), so
    logins survive restarts and nothing secret ships in the image."""
    data_dir = Path(data_dir)
    path = data_dir / SECRET_KEY_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raw = b""
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
    if raw:
        try:
            key = raw.decode("ascii").strip()
        except UnicodeDecodeError:
            raise UserError(
                f"{path} is damaged (not a text key): delete it and a new key is made at the next start "
                "(everyone then logs in again)"
            ) from None
        if len(key) >= 32:
            return key
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key + "\n")
    os.replace(tmp, path)
    return key


def settings_for(cfg: Config, testing: bool = False) -> dict:
    """The Flask config mapping for this station."""
    base = TestingSettings if testing else BaseSettings
    # Flask's from_object rule (upper-case class attributes), written out so it returns a dict
    out = {k: getattr(base, k) for k in dir(base) if k.isupper()}
    out["SECRET_KEY"] = cfg.web.secret_key or load_or_create_secret_key(cfg.data_dir)
    out["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=cfg.web.session_minutes)
    out["GAIT_API_TOKEN"] = cfg.api_token
    return out
