"""`gait-station doctor`: the table says what works and what to fix; essential failures exit 1."""

from __future__ import annotations

import shutil
from collections import namedtuple
from datetime import datetime
from pathlib import Path

import pytest

from device import doctor
from device.cli import main as cli

REPO = Path(__file__).resolve().parents[2]


def _run(capsys, *argv: str) -> tuple[int, str]:
    rc = cli(["doctor", *argv])
    return rc, capsys.readouterr().out


@pytest.fixture
def clip(samples_dir: Path) -> Path:
    return samples_dir / "walking_side_30fps.mp4"


def _line(out: str, name: str) -> str:
    return next(ln for ln in out.splitlines() if ln[2:].startswith(name))


def test_healthy_station_exits_zero(capsys, tmp_path, model_path, clip, monkeypatch) -> None:
    monkeypatch.setenv("GAIT_STATION_MODEL", str(model_path))
    rc, out = _run(capsys, "--data-dir", str(tmp_path), "--source", str(clip))
    assert rc == 0, out
    assert _line(out, "pose model").startswith(("✓", "+")) and "sha256 ok" in out
    assert _line(out, "camera").startswith(("✓", "+")) and "frames 1280×720" in out.replace("x720", "×720")
    assert _line(out, "data folder").startswith(("✓", "+"))
    assert "Ready." in out


def test_missing_model_and_bad_camera_are_essential(capsys, tmp_path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[pose]\nmodel_path = "{tmp_path / "nope.tflite"}"\n[camera]\nsource = "{tmp_path / "none.mp4"}"\n'
    )
    rc, out = _run(capsys, "--config", str(cfg), "--data-dir", str(tmp_path))
    assert rc == 1
    assert _line(out, "pose model").startswith(("✗", "x")) and "not found" in out
    assert _line(out, "camera").startswith(("✗", "x")) and "video file not found" in out
    assert "cannot capture until this is fixed: pose model, camera" in out


def test_invalid_config_named(capsys, tmp_path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text("[capture]\nduration_s = 2\n")
    rc, out = _run(capsys, "--config", str(cfg), "--data-dir", str(tmp_path), "--no-camera")
    assert rc == 1 and "duration_s: must be between 5 and 1800" in _line(out, "config")


def test_data_dir_not_writable(capsys, tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    rc, out = _run(capsys, "--data-dir", str(blocker / "data"), "--no-camera")
    assert rc == 1 and _line(out, "data folder").startswith(("✗", "x"))


def test_disk_full(monkeypatch, tmp_path) -> None:
    from device.config import Config

    cfg = Config()
    cfg.storage.data_dir = str(tmp_path)
    Usage = namedtuple("Usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(10**9, 10**9 - 10**8, 10**8))
    c = doctor.check_disk(cfg)
    assert c.broken and "100 MB free" in c.detail and "retention" in c.fix


def test_corrupt_database(tmp_path) -> None:
    from device.config import Config

    cfg = Config()
    cfg.storage.data_dir = str(tmp_path)
    (tmp_path / "station.db").write_bytes(b"this is not a database" * 100)
    c = doctor.check_database(cfg)
    assert c.broken and "station.db" in c.detail


def test_clock_in_the_past(monkeypatch) -> None:
    class Past(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(1970, 1, 1, 0, 5)

    monkeypatch.setattr(doctor, "datetime", Past)
    c = doctor.check_clock()
    assert c.status == doctor.FAIL and "1970" in c.detail and "NTP" in c.fix


def test_receipt_printer_unreachable(tmp_path) -> None:
    from device.config import Config

    cfg = Config()
    cfg.printing.receipt_printer = "network:127.0.0.1:9"
    c = doctor.check_receipt_printer(cfg)
    assert c.status == doctor.FAIL and not c.essential and "127.0.0.1:9" in c.detail
    cfg.printing.receipt_printer = "usb:nonsense"
    assert "not a printer" in doctor.check_receipt_printer(cfg).detail


def test_rear_camera_reported_but_optional(capsys, tmp_path, model_path, clip, monkeypatch) -> None:
    monkeypatch.setenv("GAIT_STATION_MODEL", str(model_path))
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[camera]\nsource = "{clip}"\nrear_source = "{tmp_path / "missing.mp4"}"\n')
    rc, out = _run(capsys, "--config", str(cfg), "--data-dir", str(tmp_path))
    assert rc == 0, out
    assert _line(out, "rear camera").startswith("!") and "missing.mp4" in out


def test_dashboard_pin_from_before_the_six_character_rule_is_flagged(tmp_path) -> None:
    import json
    import types

    from web.auth import PIN_POLICY, hash_pin, save_pin_hash

    cfg = types.SimpleNamespace(data_dir=tmp_path, web=types.SimpleNamespace(pin_hash=""))
    assert doctor.check_dashboard_pin(cfg).status == doctor.WARN  # none set yet
    # an install from before the rule: web_auth.json holds only the hash of a 4-digit PIN
    (tmp_path / "web_auth.json").write_text(json.dumps({"pin_hash": hash_pin("2468")}))
    c = doctor.check_dashboard_pin(cfg)
    assert c.status == doctor.WARN and "set-pin" in c.fix and "6" in c.detail
    save_pin_hash(tmp_path, hash_pin("815304"), PIN_POLICY)
    assert doctor.check_dashboard_pin(cfg).status == doctor.OK


def test_database_damaged_past_its_header_fails_doctor(tmp_path) -> None:
    import random

    from device.config import Config
    from device.store import Store

    cfg = Config()
    cfg.storage.data_dir = str(tmp_path)
    Store(tmp_path / "station.db").close()
    raw = bytearray((tmp_path / "station.db").read_bytes())
    raw[100:] = random.Random(4).randbytes(len(raw) - 100)  # header intact, pages garbage
    (tmp_path / "station.db").write_bytes(bytes(raw))
    c = doctor.check_database(cfg)
    assert c.broken and c.name == "database" and "station.db" in c.detail


def test_a_crashing_check_is_named_and_an_essential_one_exits_one(capsys, tmp_path, monkeypatch) -> None:
    def boom(cfg):
        raise RuntimeError("disk image is malformed")

    monkeypatch.setattr(doctor, "check_database", boom)
    monkeypatch.setattr(doctor, "check_model", lambda cfg: doctor.Check("pose model", doctor.OK, "stub"))
    monkeypatch.setattr(
        doctor, "check_cups", lambda cfg: doctor.Check("report printer (CUPS)", doctor.OK, "-")
    )
    rc, out = _run(capsys, "--data-dir", str(tmp_path), "--no-camera")
    assert rc == 1, out
    line = _line(out, "database")
    assert line.startswith(("✗", "x")) and "check crashed" in line and "<lambda>" not in out


def test_missing_norms_file_and_bad_receipt_printer_refused_at_start_and_in_doctor(
    capsys, tmp_path, monkeypatch
) -> None:
    from device.config import load_config
    from device.errors import ConfigError

    conf = tmp_path / "config.toml"
    conf.write_text(f'[station]\nnorms_file = "{tmp_path / "clinic-norms.toml"}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"norms_file: norms file not found"):
        load_config(conf, tmp_path)
    monkeypatch.setattr(doctor, "check_model", lambda cfg: doctor.Check("pose model", doctor.OK, "stub"))
    monkeypatch.setattr(
        doctor, "check_cups", lambda cfg: doctor.Check("report printer (CUPS)", doctor.OK, "-")
    )
    rc, out = _run(capsys, "--config", str(conf), "--data-dir", str(tmp_path), "--no-camera")
    assert rc == 1 and "norms file not found" in _line(out, "config"), out

    conf.write_text('[printing]\nreceipt_printer = "usb:printer"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"receipt_printer"):
        load_config(conf, tmp_path)
    rc, out = _run(capsys, "--config", str(conf), "--data-dir", str(tmp_path), "--no-camera")
    assert rc == 1 and "receipt_printer" in _line(out, "config"), out

    good = tmp_path / "good-norms.toml"
    good.write_text((REPO / "device" / "gait" / "norms.toml").read_text(encoding="utf-8"), encoding="utf-8")
    conf.write_text(f'[station]\nnorms_file = "{good}"\n', encoding="utf-8")
    assert load_config(conf, tmp_path).station.norms_file == str(good)
    assert doctor.check_norms(load_config(conf, tmp_path)).status == doctor.OK
