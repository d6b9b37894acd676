"""ReceiptPrinter: ESC/POS bytes via the Dummy printer, a file device, a fake network printer."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from device.errors import ConfigError, UserError
from device.printing import PrintError, ReceiptPrinter, format_summary, parse_spec

INIT = b"\x1b@"
CUT = b"\x1dV"  # GS V: paper cut
PAPER_STATUS_QUERY = b"\x10\x04\x04"  # DLE EOT 4


def test_dummy_receipt_bytes(session: dict[str, Any]) -> None:
    out = ReceiptPrinter("dummy").print_summary(format_summary(session, clinic_name="Riverside Physio"))
    assert out is not None
    assert out.startswith(INIT)
    assert CUT in out[-8:]  # cut at the end, after the feed
    assert b"Runner: Jane M" in out
    assert b"M\x81ller" in out  # "ü" in the printer's CP437 code page, not UTF-8
    assert b"164 spm" in out
    assert b"Riverside Physio" in out


def test_print_error_is_a_user_error() -> None:
    assert issubclass(PrintError, UserError)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("usb:0x04b8:0x0202", ("usb", 0x04B8, 0x0202, "", 9100, "")),
        ("usb:04b8:0e15", ("usb", 0x04B8, 0x0E15, "", 9100, "")),
        ("network:192.0.2.10", ("network", 0, 0, "192.0.2.10", 9100, "")),
        ("network:printer.local:9101", ("network", 0, 0, "printer.local", 9101, "")),
        ("network:[fe80::1]:9100", ("network", 0, 0, "fe80::1", 9100, "")),
        ("file:/dev/usb/lp0", ("file", 0, 0, "", 9100, "/dev/usb/lp0")),
        ("dummy", ("dummy", 0, 0, "", 9100, "")),
    ],
)
def test_parse_spec(spec: str, expected: tuple[Any, ...]) -> None:
    s = parse_spec(spec)
    assert (s.kind, s.vendor_id, s.product_id, s.host, s.port, s.path) == expected


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "usb:04b8",
        "usb:0xZZZZ:0x0202",
        "network:",
        "network:host:99999",
        "file:relative/lp0",
        "serial:/dev/ttyS0",
        "lp0",
    ],
)
def test_bad_spec_is_a_config_error(spec: str) -> None:
    with pytest.raises(ConfigError, match=r"\[printing\] receipt_printer"):
        ReceiptPrinter(spec)


def test_file_device_gets_the_same_bytes_as_dummy(tmp_path: Path, session: dict[str, Any]) -> None:
    lines = format_summary(session)
    dev = tmp_path / "lp0"
    assert ReceiptPrinter(f"file:{dev}").print_summary(lines) is None
    assert dev.read_bytes() == ReceiptPrinter("dummy").print_summary(lines)


def test_file_device_absent(tmp_path: Path) -> None:
    with pytest.raises(PrintError, match=r"cannot reach the printer device .*plugged in"):
        ReceiptPrinter(f"file:{tmp_path}/no-such-dir/lp0").print_summary(["x"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_network_printer_connection_refused() -> None:
    with pytest.raises(
        PrintError, match=r"cannot reach the network printer 127\.0\.0\.1:\d+: is it switched on"
    ):
        ReceiptPrinter(f"network:127.0.0.1:{_free_port()}", timeout_s=2).print_summary(["x"])


def test_usb_printer_absent() -> None:
    # No such device on a test machine (and no USB access in CI containers): a clear PrintError either way.
    with pytest.raises(PrintError, match=r"USB printer 04b8:0202"):
        ReceiptPrinter("usb:0x04b8:0x0202").print_summary(["x"])


class FakeNetworkPrinter:
    """A raw-port ESC/POS printer on localhost: records what it receives, answers paper status."""

    def __init__(self, paper_status: bytes | None) -> None:
        self.paper_status = paper_status
        self.received = bytearray()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.server.accept()
        with conn:
            conn.settimeout(5)
            while True:
                try:
                    data = conn.recv(4096)
                except OSError:
                    return
                if not data:
                    return
                self.received += data
                if PAPER_STATUS_QUERY in data and self.paper_status is not None:
                    conn.sendall(self.paper_status)

    def close(self) -> None:
        self.server.close()
        self.thread.join(5)


def test_network_printer_prints(session: dict[str, Any]) -> None:
    fake = FakeNetworkPrinter(paper_status=bytes([18]))  # paper adequate
    try:
        out = ReceiptPrinter(f"network:127.0.0.1:{fake.port}").print_summary(format_summary(session))
        assert out is None
        fake.thread.join(5)
        assert INIT in fake.received and b"Runner: Jane M" in fake.received and CUT in fake.received
    finally:
        fake.close()


def test_network_printer_out_of_paper_refuses_before_printing(session: dict[str, Any]) -> None:
    fake = FakeNetworkPrinter(paper_status=bytes([114]))  # no paper
    try:
        with pytest.raises(PrintError, match="out of paper"):
            ReceiptPrinter(f"network:127.0.0.1:{fake.port}").print_summary(format_summary(session))
        fake.thread.join(5)
        assert b"Runner" not in fake.received
    finally:
        fake.close()


def test_printer_that_cannot_report_status_still_prints(session: dict[str, Any]) -> None:
    fake = FakeNetworkPrinter(paper_status=None)  # never answers the status query
    try:
        ReceiptPrinter(f"network:127.0.0.1:{fake.port}", timeout_s=0.5).print_summary(["hello"])
        fake.thread.join(5)
        assert b"hello" in fake.received
    finally:
        fake.close()


def _code_page_before(out: bytes, needle: bytes) -> int:
    """The ESC t code page selected when ``needle`` is sent (0 = CP437 after ESC @)."""
    pos = out.index(needle)
    sel = out.rfind(b"\x1bt", 0, pos)
    return out[sel + 2] if sel >= 0 else 0


def test_zoe_prints_in_the_code_page_its_bytes_are_in() -> None:
    out = ReceiptPrinter("dummy").print_summary(["Gait summary", "Ελληνικά", "Runner: Zoë"])
    assert out is not None
    assert _code_page_before(out, "Ελληνικά".encode("cp737")) == 14  # CP737 selected for Greek
    # "ë" is 0x89 in CP437, and CP437 is selected again after the Greek line
    assert b"Zo\x1bt\x00\x89" in out or (b"Zo\x89" in out and _code_page_before(out, b"Zo\x89") == 0)


def test_cjk_is_a_visible_fallback_never_gb18030_bytes_in_a_single_byte_code_page(caplog) -> None:
    out = ReceiptPrinter("dummy").print_summary(["Gait summary", "Runner: 田中 Zoë Müller", "Shoes: 跑鞋"])
    assert out is not None
    assert "田中".encode("gb18030") not in out and "跑鞋".encode("gb18030") not in out
    assert b"Runner: ?? Zo\x89 M\x81ller" in out and _code_page_before(out, b"Zo\x89") == 0
    assert b"Shoes: ??" in out
    assert "4 character(s)" in caplog.text and "PDF report" in caplog.text
