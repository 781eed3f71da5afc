"""What flash sends and removes: only the profile's clock backend (with sim and the
helpers it imports); cleanup deletes only files inside the library's folder on the board,
whatever path a broken or hostile board lists. And real boards are found by the USB
VID:PID their profiles carry."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ktimers_host import board as board_mod
from ktimers_host import profiles
from ktimers_host.flash import build_files


@pytest.mark.parametrize(
    "name, backends",
    [
        ("rp2-pico", {"__init__", "_timerpair", "rp2", "sim"}),
        ("esp32", {"__init__", "_timerpair", "esp32", "sim"}),
        ("mps2-an385", {"__init__", "mps2", "sim"}),
        ("unix", {"__init__", "unix", "sim"}),
    ],
)
def test_flash_sends_only_the_profiles_backend(name: str, backends: set[str]) -> None:
    files = build_files(profiles.load(name), compile_mpy=False)
    sent = {k.split("/")[-1][:-3] for k in files if k.startswith("ktimers/backends/")}
    assert sent == backends
    assert "ktimers/core.py" in files and "ktimers_board.py" in files


def _fake_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    """STAND-IN for attached USB serial adapters (none can be plugged in here)."""
    from serial.tools import list_ports

    ports = [
        SimpleNamespace(device="/dev/ttyACM7", vid=0x2E8A, pid=0x0005, description="Board CDC"),
        SimpleNamespace(device="/dev/ttyUSB3", vid=0x10C4, pid=0xEA60, description="CP2102"),
        SimpleNamespace(device="/dev/ttyS0", vid=None, pid=None, description="n/a"),
    ]
    monkeypatch.setattr(list_ports, "comports", lambda: ports)


def test_attached_boards_are_matched_by_usb_id(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_ports(monkeypatch)
    rows = {r["device"]: r for r in board_mod.describe_ports()}
    assert rows["/dev/ttyACM7"]["boards"] == ["rp2-pico"]
    assert rows["/dev/ttyUSB3"]["boards"] == ["esp32"]
    assert rows["/dev/ttyS0"]["boards"] == []
    # --board without --port: the attached board, before the profile's default port
    assert board_mod.Board("rp2-pico").port == "/dev/ttyACM7"
    assert board_mod.Board("pyboard").port == profiles.load("pyboard")["connect"]["port"]


def test_every_real_board_profile_carries_usb_ids() -> None:
    for p in profiles.list():
        if p["connect"].get("kind", "serial") == "serial":
            assert profiles.usb_ids(p), p["name"]
