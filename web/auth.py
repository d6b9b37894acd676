"""The dashboard login PIN: where its hash lives, and `gait-station set-pin`.

The PIN is never stored, only a salted hash (werkzeug.security, scrypt at 16 MB: the rate
limits in :mod:`web.security` are what stop guessing; the hash only has to make a stolen
``web_auth.json`` expensive, and a 32 MB hash per attempt starved the capture). Where the hash is:

1. ``<data_dir>/web_auth.json`` (mode 0600), written by ``gait-station set-pin`` or by the
   first-run setup page — this wins, so ``set-pin`` always takes effect;
2. else ``[web] pin_hash`` in the config file (for clinics that provision stations from a file).

With neither, the dashboard has no PIN yet: the login page says so and the setup page is
served only to a browser on the station itself (127.0.0.1/::1), never over the network. So a
tablet on the clinic Wi-Fi can never be the first to claim the station.

PINs have at least 6 characters and trivial ones (``111111``, ``123456``, ``121212``…) are refused.
A station set up before that rule keeps working with its old PIN; ``web_auth.json`` then has
no ``policy`` of :data:`PIN_POLICY`, so ``doctor`` and the dashboard (after each login with a
PIN that fails today's rule) ask for a new one.

This module is imported by the CLI at startup: keep heavy imports inside functions.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from device.errors import InputError, UserError

AUTH_FILE = "web_auth.json"
MIN_PIN_LEN = 6
MAX_PIN_LEN = 32
PIN_POLICY = 2  # web_auth.json written under the ≥ 6 characters, no trivial PIN rule
HASH_METHOD = "scrypt:16384:8:1"  # 16 MB per check (werkzeug's default is 32 MB)
# Common PINs that no repetition/sequence rule catches (from published PIN-frequency lists).
COMMON_PINS = frozenset({"112233", "123123", "121212", "159753", "147258", "696969", "102030", "198600"})


def auth_file(data_dir: Path) -> Path:
    return Path(data_dir) / AUTH_FILE


def validate_pin(pin: str) -> str | None:
    """Why ``pin`` is not acceptable as a PIN (one line), or None when it is."""
    if len(pin) < MIN_PIN_LEN:
        return f"the PIN must have at least {MIN_PIN_LEN} characters"
    if len(pin) > MAX_PIN_LEN:
        return f"the PIN must have at most {MAX_PIN_LEN} characters"
    if pin != pin.strip():
        return "the PIN must not start or end with a space"
    if not pin.isprintable():
        return "the PIN must contain only printable characters"
    if is_trivial_pin(pin):
        return "the PIN is too easy to guess (repeated or sequential characters): choose another"
    return None


def is_trivial_pin(pin: str) -> bool:
    """All one character, a run up or down (123456, 987654, abcdef), a short block repeated
    (121212, 123123, 1122 1122) or a well-known PIN."""
    p = pin.lower()
    if len(set(p)) <= 2 and len(p) <= 8:
        return True  # 111111, 112112, 121212, 111222
    steps = {ord(b) - ord(a) for a, b in zip(p, p[1:], strict=False)}
    if steps <= {1} or steps <= {-1} or steps <= {0}:
        return True
    n = len(p)
    if any(n % k == 0 and p == p[:k] * (n // k) for k in range(1, n // 2 + 1)):
        return True
    return p in COMMON_PINS


def hash_pin(pin: str) -> str:
    from werkzeug.security import generate_password_hash

    return generate_password_hash(pin, method=HASH_METHOD)


def check_pin(pin_hash: str, pin: str) -> bool:
    from werkzeug.security import check_password_hash

    if not pin_hash:
        return False
    try:
        return check_password_hash(pin_hash, pin)
    except (ValueError, TypeError):  # a mangled hash in the config must not crash the login page
        return False


def load_pin_hash(data_dir: Path, config_hash: str = "") -> str:
    """The current PIN hash ("" = no PIN set yet); see the module docstring for precedence."""
    path = auth_file(data_dir)
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return config_hash
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read {path}: {exc}; run `gait-station set-pin` to rewrite it") from None
    value = data.get("pin_hash", "") if isinstance(data, dict) else ""
    return value if isinstance(value, str) and value else config_hash


def pin_policy(data_dir: Path) -> int | None:
    """The PIN rule ``web_auth.json`` was written under (None: no file; 1: before 6 characters)."""
    try:
        data = json.loads(auth_file(data_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    policy = data.get("policy", 1) if isinstance(data, dict) else 1
    return policy if isinstance(policy, int) and not isinstance(policy, bool) else 1


def save_pin_hash(data_dir: Path, pin_hash: str, policy: int = PIN_POLICY) -> Path:
    """Write the hash atomically with mode 0600 (the file is only for the station's user)."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    path = auth_file(data_dir)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"pin_hash": pin_hash, "policy": policy}, fh)
        fh.write("\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def pin_fingerprint(pin_hash: str) -> str:
    """A short digest of the hash, kept in each login session: changing the PIN logs everyone out."""
    return hashlib.sha256(pin_hash.encode("utf-8")).hexdigest()[:16]


# ----------------------------------------------------------------------------- CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="configuration file (TOML)")
    parser.add_argument(
        "--data-dir", metavar="DIR", help="station data directory (default: per-user data dir)"
    )
    parser.add_argument(
        "--pin-stdin",
        action="store_true",
        help="read the PIN from the first line of standard input (for scripts) instead of asking twice",
    )


def _read_pin(args: argparse.Namespace) -> str:
    if args.pin_stdin:
        line = sys.stdin.readline()
        if not line:
            raise InputError("no PIN on standard input")
        return line.rstrip("\r\n")
    import getpass

    first = getpass.getpass("New dashboard PIN: ")
    second = getpass.getpass("Repeat the PIN: ")
    if first != second:
        raise InputError("the two PINs differ; nothing changed")
    return first


def main(args: argparse.Namespace) -> int:
    from device.config import load_config

    cfg = load_config(args.config, args.data_dir)
    pin = _read_pin(args)
    problem = validate_pin(pin)
    if problem:
        raise InputError(f"{problem}; nothing changed")
    path = save_pin_hash(cfg.data_dir, hash_pin(pin))
    print(f"PIN set (hash stored in {path}); dashboard sessions logged in with the old PIN end now.")
    return 0
