"""Station configuration: one TOML file, defaults built in, validated at start.

Where the file is: ``--config FILE``, else ``$GAIT_STATION_CONFIG``, else
``<data_dir>/config.toml`` if it exists, else built-in defaults only. Each TOML table maps to
one section dataclass below; unknown keys and wrong types are refused with a message that
names the key, so a typo in the clinic's file never silently does nothing.
"""

from __future__ import annotations

import os
import tomllib
import typing
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from device.errors import ConfigError


@dataclass
class StationConfig:
    clinic_name: str = "Gait Station"  # shown on the dashboard, receipt and report
    clinic_logo: str = ""  # path to a PNG/SVG shown on the report
    units: str = "metric"  # "metric" | "imperial"
    coaching_profile: str = (
        "neutral"  # "neutral" | "ankle_lean" | "hip_hinge": changes cues, not measurements
    )
    norms_file: str = ""  # clinic-edited normal ranges; empty = the built-in device/gait/norms.toml
    log_level: str = "INFO"  # journal verbosity


@dataclass
class CameraConfig:
    # "auto" (picamera where Picamera2 imports, else synthetic; decided once) | "picamera" |
    # "synthetic" | "webcam[:N]" | a video path
    source: str = "auto"
    rear_source: str = ""  # optional second camera (rear view), e.g. "picamera:1"
    width: int = 1280  # main stream size (evidence frames, preview); the model gets its own low-res stream
    height: int = 720
    # Camera frame rate. 0 = auto: a Pi camera's fastest mode that frames the whole runner (120 fps:
    # 1536×864 on a Camera Module 3, 1332×990 on the HQ camera); a webcam or the synthetic runner
    # then runs at 30. Every frame is recorded whatever the pose model's speed (docs/capture.md).
    fps: float = 0.0
    loop_video: bool = False  # a video file source restarts at its end (demo on a dev machine)
    # the side of the treadmill the camera stands on, as the runner on it sees it ("left" |
    # "right" | "auto" = from the facing direction): the runner's side nearest the camera
    side_of_treadmill: str = "auto"
    # the Pi camera is mounted upside down (a ribbon cable that only reaches that way): the
    # sensor turns its picture 180° at no cost. The pose model finds no one upside down.
    upside_down: bool = False
    rear_upside_down: bool = False  # the same for the rear camera


@dataclass
class PoseConfig:
    model_path: str = ""  # empty = setup's download location, then ../shared/models
    num_threads: int = 2  # LiteRT/XNNPACK threads for MoveNet
    min_score: float = 0.3  # keypoints below this count as unseen


@dataclass
class CaptureConfig:
    duration_s: float = 120.0  # the capture stops by itself after this
    warmup_s: float = 0.0  # seconds at the start excluded from the analysis
    countdown_s: int = 3  # beeps before recording starts
    record_video: bool = True  # keep the run's frames as video when the disk has room for it
    video_retention_days: int = 30  # videos older than this are deleted (0 = kept with the session)
    evidence_jpeg_quality: int = 85  # JPEG quality of the saved evidence frames
    live_preview_fps: float = 10.0  # MJPEG rate to the dashboard: low enough not to starve inference
    metronome_spm: float = 0.0  # 0 = off
    stall_timeout_s: float = 5.0  # a capture whose camera delivers no frame this long fails
    result_hold_s: float = (
        20.0  # done/failed shows (LED, dashboard) this long, then the station is idle again
    )


@dataclass
class GpioConfig:
    # BCM pin numbers; 0 = not fitted (GPIO0/1 are the HAT EEPROM pins, never a button).
    # Buttons wire the pin to ground (internal pull-up). See device/controls/station.py.
    enabled: bool = True  # false: no buttons/LED/buzzer (the dashboard still works)
    start_pin: int = 17  # start button
    stop_pin: int = 27  # same as start_pin = one start/stop button (hold to cancel)
    print_pin: int = 0  # 0 = no print button
    led_pin: int = 22  # status LED
    buzzer_pin: int = 0  # 0 = no buzzer
    bounce_s: float = 0.05  # button debounce
    hold_to_cancel_s: float = 2.0  # holding stop (or the single button) this long cancels the capture


@dataclass
class PrintingConfig:
    receipt_printer: str = (
        ""  # "" | "usb:0x04b8:0x0202" | "network:192.0.2.10" | "file:/dev/usb/lp0" | "dummy"
    )
    receipt_width_chars: int = 42  # characters per receipt line (42 for 80 mm paper, 32 for 58 mm)
    cups_queue: str = ""  # CUPS queue for the A4/Letter summary and full report; "" = system default
    paper: str = "A4"  # "A4" | "Letter"
    auto_print_summary: bool = True  # print the summary when the analysis is done


@dataclass
class WebConfig:
    host: str = "127.0.0.1"  # setup.sh on a Pi sets 0.0.0.0 so the tablet can reach it
    port: int = 8080  # dashboard and API port
    pin_hash: str = ""  # set by `gait-station set-pin`; empty = first visit asks to set one
    api_token: str = ""  # or $GAIT_STATION_API_TOKEN
    secret_key: str = ""  # empty = generated once and kept in the data dir
    session_minutes: int = 720  # dashboard login lasts this long
    login_attempts_per_minute: int = 5  # wrong PINs per client per minute before a wait
    threads: int = 16  # threads for page and API requests (live streams hold none)


@dataclass
class StorageConfig:
    data_dir: str = ""  # empty = per-user data dir (platformdirs)
    retention_days: int = 0  # 0 = keep everything; otherwise prune sessions older than this
    min_free_mb: int = 500  # capture refuses to start below this


@dataclass
class Config:
    station: StationConfig = field(default_factory=StationConfig)
    camera: CameraConfig = field(default_factory=CameraConfig)
    pose: PoseConfig = field(default_factory=PoseConfig)
    capture: CaptureConfig = field(default_factory=CaptureConfig)
    gpio: GpioConfig = field(default_factory=GpioConfig)
    printing: PrintingConfig = field(default_factory=PrintingConfig)
    web: WebConfig = field(default_factory=WebConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    source_path: str = ""  # where it was loaded from ("" = defaults only)

    @property
    def data_dir(self) -> Path:
        if self.storage.data_dir:
            return Path(self.storage.data_dir).expanduser()
        env = os.environ.get("GAIT_STATION_DATA_DIR")
        if env:
            return Path(env).expanduser()
        import platformdirs

        return Path(platformdirs.user_data_dir("gait-station", appauthor=False))

    @property
    def api_token(self) -> str:
        return os.environ.get("GAIT_STATION_API_TOKEN") or self.web.api_token


_CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("station", "units"): ("metric", "imperial"),
    ("station", "coaching_profile"): ("neutral", "ankle_lean", "hip_hinge"),
    ("station", "log_level"): ("DEBUG", "INFO", "WARNING", "ERROR"),
    ("printing", "paper"): ("A4", "Letter"),
    ("camera", "side_of_treadmill"): ("left", "right", "auto"),
}

_RANGES: dict[tuple[str, str], tuple[float, float]] = {
    ("camera", "width"): (64, 4096),
    ("camera", "height"): (64, 4096),
    ("camera", "fps"): (0, 240),
    ("pose", "num_threads"): (1, 8),
    ("pose", "min_score"): (0.0, 1.0),
    ("capture", "duration_s"): (5, 1800),
    ("capture", "warmup_s"): (0, 600),
    ("capture", "countdown_s"): (0, 30),
    ("capture", "evidence_jpeg_quality"): (10, 100),
    ("capture", "live_preview_fps"): (0.5, 30),
    ("capture", "metronome_spm"): (0, 240),
    ("capture", "video_retention_days"): (0, 36500),
    ("capture", "stall_timeout_s"): (1, 120),
    ("capture", "result_hold_s"): (0, 3600),
    ("gpio", "start_pin"): (0, 27),
    ("gpio", "stop_pin"): (0, 27),
    ("gpio", "print_pin"): (0, 27),
    ("gpio", "led_pin"): (0, 27),
    ("gpio", "buzzer_pin"): (0, 27),
    ("gpio", "bounce_s"): (0, 1),
    ("gpio", "hold_to_cancel_s"): (0.5, 10),
    ("printing", "receipt_width_chars"): (24, 64),
    ("web", "port"): (1, 65535),
    ("web", "session_minutes"): (1, 10080),
    ("web", "login_attempts_per_minute"): (1, 1000),
    ("web", "threads"): (4, 64),
    ("storage", "retention_days"): (0, 36500),
    ("storage", "min_free_mb"): (0, 10_000_000),
}


def _check_type(section: str, key: str, value: Any, typ: Any) -> Any:
    where = f"[{section}] {key}"
    if typ is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"config {where}: expected true or false, got {value!r}")
        return value
    if typ is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"config {where}: expected a whole number, got {value!r}")
        return value
    if typ is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"config {where}: expected a number, got {value!r}")
        return float(value)
    if typ is str:
        if not isinstance(value, str):
            raise ConfigError(f"config {where}: expected text in quotes, got {value!r}")
        return value
    raise ConfigError(f"config {where}: unsupported type")  # pragma: no cover


def _resolve_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in fields(cls)}


def _apply_section(section: str, obj: Any, values: dict[str, Any]) -> None:
    types_ = _resolve_types(type(obj))
    for key, value in values.items():
        if key not in types_:
            known = ", ".join(sorted(types_))
            raise ConfigError(f"config [{section}]: unknown setting {key!r} (known: {known})")
        value = _check_type(section, key, value, types_[key])
        choices = _CHOICES.get((section, key))
        if choices and value not in choices:
            raise ConfigError(f"config [{section}] {key}: must be one of {', '.join(choices)}; got {value!r}")
        rng = _RANGES.get((section, key))
        if (section, key) == ("capture", "metronome_spm") and 0 < value < 60:
            raise ConfigError(f"config [capture] metronome_spm: 0 (off) or between 60 and 240; got {value!r}")
        if rng and not (rng[0] <= value <= rng[1]):
            raise ConfigError(
                f"config [{section}] {key}: must be between {rng[0]:g} and {rng[1]:g}; got {value!r}"
            )
        setattr(obj, key, value)


def config_from_dict(data: dict[str, Any]) -> Config:
    cfg = Config()
    section_types = {f.name: f for f in fields(Config) if f.name != "source_path"}
    for section, values in data.items():
        if section not in section_types:
            raise ConfigError(
                f"config: unknown section [{section}] (known: {', '.join(sorted(section_types))})"
            )
        if not isinstance(values, dict):
            raise ConfigError(f"config: [{section}] must be a table of settings")
        # getattr: the section name comes from the TOML file, checked against fields(Config) above
        _apply_section(section, getattr(cfg, section), values)
    return cfg


def load_config(path: str | Path | None = None, data_dir: str | Path | None = None) -> Config:
    """Load and validate the configuration (see module docstring for where it is looked for)."""
    candidates: list[Path] = []
    explicit = path or os.environ.get("GAIT_STATION_CONFIG")
    if explicit:
        p = Path(explicit).expanduser()
        if not p.is_file():
            raise ConfigError(f"config file not found: {p}")
        candidates.append(p)
    chosen: Path | None = candidates[0] if candidates else None
    if chosen is None:
        base = Config()
        if data_dir:
            base.storage.data_dir = str(data_dir)
        default_file = base.data_dir / "config.toml"
        if default_file.is_file():
            chosen = default_file
    data: dict[str, Any] = {}
    if chosen is not None:
        try:
            data = tomllib.loads(chosen.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config {chosen}: not valid TOML ({exc})") from None
        except UnicodeDecodeError:
            raise ConfigError(f"config {chosen}: not a UTF-8 text file") from None
    cfg = config_from_dict(data)
    if data_dir:
        cfg.storage.data_dir = str(data_dir)
    cfg.source_path = str(chosen) if chosen else ""
    check_referenced(cfg)
    return cfg


def check_referenced(cfg: Config) -> None:
    """What the settings point at must be usable now, not fail every capture after the run: the
    clinic's norms file must load, the receipt printer setting must name a printer."""
    if cfg.station.norms_file:
        from device.norms_file import load_norms

        try:
            load_norms(Path(cfg.station.norms_file).expanduser())
        except ConfigError as exc:
            raise ConfigError(f"config [station] norms_file: {exc}") from None
    if cfg.printing.receipt_printer:
        from device.printing.receipt import parse_spec

        parse_spec(cfg.printing.receipt_printer)  # ConfigError naming [printing] receipt_printer


def config_to_toml(cfg: Config) -> str:
    """The configuration as TOML text (for `doctor`, the settings page and writing a starter file)."""
    lines: list[str] = []
    for f in fields(Config):
        if f.name == "source_path":
            continue
        section = getattr(cfg, f.name)  # walking the dataclass fields by name (fields(Config))
        assert is_dataclass(section)
        lines.append(f"[{f.name}]")
        for sf in fields(section):
            v = getattr(section, sf.name)
            if isinstance(v, bool):
                lines.append(f"{sf.name} = {'true' if v else 'false'}")
            elif isinstance(v, int | float):
                lines.append(f"{sf.name} = {v}")
            else:
                esc = str(v).replace("\\", "\\\\").replace('"', '\\"')
                lines.append(f'{sf.name} = "{esc}"')
        lines.append("")
    return "\n".join(lines)


def as_dict(cfg: Config) -> dict[str, dict[str, Any]]:
    """Settings as plain dicts (stored with each session: 'settings used')."""
    out: dict[str, dict[str, Any]] = {}
    for f in fields(Config):
        if f.name == "source_path":
            continue
        # walking the dataclass fields by name (fields(Config), fields(section))
        section = getattr(cfg, f.name)
        out[f.name] = {sf.name: getattr(section, sf.name) for sf in fields(section)}
    out["web"].pop("pin_hash", None)
    out["web"].pop("api_token", None)
    out["web"].pop("secret_key", None)
    return out
