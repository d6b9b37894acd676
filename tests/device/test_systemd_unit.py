"""systemd/gait-station.service: unprivileged, watchdog-supervised, sandboxed, and valid."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[2] / "systemd" / "gait-station.service"
PLACEHOLDERS = ("@VENV@", "@USER@", "@DATA_DIR@", "@REPO@")


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """systemd's INI dialect: repeated keys accumulate (DeviceAllow=, Environment=)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"setting outside a section: {line}"
        key, sep, value = line.partition("=")
        assert sep, f"not a key=value line: {line}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


@pytest.fixture(scope="module")
def service() -> dict[str, list[str]]:
    return parse_unit(UNIT.read_text())["Service"]


def one(service: dict[str, list[str]], key: str) -> str:
    assert key in service, f"{key}= missing"
    return service[key][-1]


def test_runs_the_station_from_the_venv(service: dict[str, list[str]]) -> None:
    assert one(service, "ExecStart").startswith("@VENV@/bin/gait-station run")
    assert "@DATA_DIR@" in one(service, "ExecStart")


def test_not_root(service: dict[str, list[str]]) -> None:
    user = one(service, "User")
    assert user == "@USER@"  # setup.sh substitutes the unprivileged service user
    assert user not in ("root", "0")
    assert one(service, "Group") not in ("root", "0")
    assert one(service, "NoNewPrivileges") == "yes"
    assert one(service, "CapabilityBoundingSet") == ""
    assert one(service, "AmbientCapabilities") == ""
    assert set(one(service, "SupplementaryGroups").split()) == {"video", "gpio", "lp"}


def test_supervised_by_the_watchdog(service: dict[str, list[str]]) -> None:
    assert one(service, "Type") == "notify"
    assert one(service, "WatchdogSec") == "30"
    assert one(service, "Restart") == "on-failure"


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("ProtectSystem", "strict"),
        ("PrivateTmp", "yes"),
        ("ProtectKernelTunables", "yes"),
        ("ProtectKernelModules", "yes"),
        ("ProtectControlGroups", "yes"),
        ("LockPersonality", "yes"),
        ("RestrictRealtime", "yes"),
        ("SystemCallArchitectures", "native"),
        ("DevicePolicy", "closed"),
    ],
)
def test_hardening(service: dict[str, list[str]], key: str, expected: str) -> None:
    assert one(service, key) == expected


def test_filesystem_and_network_limits(service: dict[str, list[str]]) -> None:
    assert one(service, "ProtectHome") in ("read-only", "tmpfs")
    assert one(service, "ReadWritePaths").split() == ["@DATA_DIR@"]
    assert set(one(service, "RestrictAddressFamilies").split()) == {
        "AF_UNIX",
        "AF_INET",
        "AF_INET6",
        "AF_NETLINK",
    }
    assert one(service, "MemoryMax")


def test_devices_camera_gpio_printer_only(service: dict[str, list[str]]) -> None:
    # The camera needs real device nodes, so no PrivateDevices; the device cgroup allows just these.
    assert service.get("PrivateDevices", ["no"])[-1] in ("no", "false")
    allowed = {v.split()[0] for v in service["DeviceAllow"]}
    assert {"char-video4linux", "char-media", "char-dma_heap", "char-gpiochip", "char-usb"} <= allowed
    assert all(v.split()[1] in ("r", "rw", "rwm") for v in service["DeviceAllow"])


def test_placeholders_are_the_ones_setup_substitutes() -> None:
    text = UNIT.read_text()
    used = {p for p in PLACEHOLDERS if p in text}
    assert used == set(PLACEHOLDERS)
    setup = UNIT.parents[1] / "setup.sh"
    if setup.exists():
        s = setup.read_text()
        for p in PLACEHOLDERS:
            assert f"s#{p}#" in s, f"setup.sh does not substitute {p}"


def test_systemd_analyze_verify(tmp_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze not installed")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    exe = venv / "bin" / "gait-station"
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    data = tmp_path / "data"
    data.mkdir()
    user = "daemon" if _user_exists("daemon") else pwd.getpwuid(os.getuid()).pw_name
    text = UNIT.read_text()
    for placeholder, value in (
        ("@VENV@", str(venv)),
        ("@USER@", user),
        ("@DATA_DIR@", str(data)),
        ("@REPO@", str(UNIT.parents[1])),
    ):
        text = text.replace(placeholder, value)
    unit = tmp_path / "gait-station.service"
    unit.write_text(text)
    r = subprocess.run(
        [tool, "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "LC_ALL": "C", "SYSTEMD_LOG_COLOR": "0"},
        check=False,
    )
    # verify exits 0 even for unknown keys or bad values; any remark about our file is a defect.
    remarks = [ln for ln in (r.stdout + r.stderr).splitlines() if unit.name in ln]
    assert remarks == [], "\n".join(remarks)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
