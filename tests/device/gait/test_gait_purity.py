"""The gait core is pure: keypoints and settings in, an Analysis out. It reads and writes no
file, starts nothing, and leans on nothing outside itself but the keypoint types."""

from __future__ import annotations

import ast
import sys
import threading
from pathlib import Path

import device.gait
from device.gait import analyze
from device.gait.types import RunnerInfo
from device.norms_file import load_norms
from device.synthetic.runner import RunnerParams, SyntheticRunner

GAIT_DIR = Path(device.gait.__file__).parent
#: what the core may import from the station: its own modules, the keypoint types, the errors
ALLOWED_DEVICE_MODULES = ("device.gait", "device.keypoints", "device.errors")
#: the standard library's doors to files, processes and the network
IO_MODULES = {"os", "io", "pathlib", "shutil", "tempfile", "tomllib", "json", "csv", "sqlite3", "pickle"}
IO_MODULES |= {"subprocess", "socket", "urllib", "http", "logging"}
#: audit events (https://docs.python.org/3/library/audit_events.html) of touching the outside
IO_EVENTS = ("open", "os.", "shutil.", "socket.", "subprocess.", "tempfile.", "sqlite3.")

_watch: dict[str, object] = {"thread": None, "seen": []}


def _audit(event: str, args: tuple[object, ...]) -> None:
    # an audit hook stays for the life of the process: it records only while a test watches,
    # and only the watching thread (a pytest-xdist worker has threads of its own)
    if _watch["thread"] == threading.get_ident() and event.startswith(IO_EVENTS):
        seen = _watch["seen"]
        assert isinstance(seen, list)
        seen.append((event, repr(args)[:160]))


sys.addaudithook(_audit)


def test_an_analysis_touches_no_file_process_or_socket() -> None:
    tl = SyntheticRunner(RunnerParams(fps=60, duration_s=12, noise_px=1.0, seed=2)).timeline()
    norms = load_norms()
    runner = RunnerInfo(height_cm=175, speed_kmh=10)
    first = analyze(tl, runner, norms=norms).to_dict()  # imports the lazily imported modules
    _watch["seen"] = []
    _watch["thread"] = threading.get_ident()
    try:
        again = analyze(tl, runner, norms=norms).to_dict()
    finally:
        _watch["thread"] = None
    assert _watch["seen"] == []
    assert again["cadence_spm"] == first["cadence_spm"] and again["cadence_spm"] is not None


def test_the_watch_sees_a_file_read() -> None:
    # the test above would pass on a hook that sees nothing
    _watch["seen"] = []
    _watch["thread"] = threading.get_ident()
    try:
        load_norms()
    finally:
        _watch["thread"] = None
    assert [e for e, _ in _watch["seen"]] == ["open"]


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_the_core_imports_no_io_module_and_nothing_of_the_station_beyond_the_keypoints() -> None:
    bad = []
    for path in sorted(GAIT_DIR.glob("*.py")):
        for name in _imports(path):
            top = name.split(".")[0]
            if top == "device" and not name.startswith(ALLOWED_DEVICE_MODULES):
                bad.append(f"{path.name}: {name}")  # e.g. the synthetic runner, the validation code
            elif top in IO_MODULES:
                bad.append(f"{path.name}: {name}")
    assert bad == []
    for name in ALLOWED_DEVICE_MODULES[1:]:
        mod = GAIT_DIR.parent / f"{name.split('.')[1]}.py"
        assert not {n.split(".")[0] for n in _imports(mod)} & IO_MODULES, mod
