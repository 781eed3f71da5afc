"""A board exported by ser2net as RFC2217 (the labgrid way) is reached by URL."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ktimers_host.board import Board
from ktimers_host.flash import flash
from ktimers_host.transport import LinkLost, open_transport


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ser2net_config(device: str, port: int) -> str:
    return (
        "%YAML 1.1\n---\n"
        "connection: &con0\n"
        f"  accepter: telnet(rfc2217),tcp,127.0.0.1,{port}\n"
        f"  connector: serialdev,{device},115200n81,local\n"
        "  options:\n"
        "    kickolduser: true\n"
        "    mdns: false\n"
    )


@contextmanager
def ser2net(device: str, tmp_path: Path) -> Iterator[str]:
    """ser2net (Debian's) exporting `device` as RFC2217 on loopback; yields the URL."""
    port = _free_port()
    cfg = tmp_path / "ser2net.yaml"
    cfg.write_text(ser2net_config(device, port))
    proc = subprocess.Popen(
        ["ser2net", "-n", "-u", "-c", str(cfg), "-P", str(tmp_path / "ser2net.pid")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 10
        while True:  # wait until ser2net listens
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    out = proc.stdout.read().decode() if proc.stdout else ""
                    pytest.fail(f"ser2net did not listen on {port}: {out}")
                time.sleep(0.05)
        yield f"rfc2217://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(5)


@pytest.fixture
def exported(unix_board: Board, tmp_path: Path) -> Iterator[tuple[Board, str]]:
    """The unix board's pty exported by ser2net; yields (board, rfc2217 URL)."""
    assert unix_board.url is not None
    pty = unix_board.url
    unix_board.transport.close()  # ser2net takes the port
    with ser2net(pty, tmp_path) as url:
        yield unix_board, url


@pytest.mark.parametrize("kind", ["mpremote", "ampy"])
def test_rfc2217_exec_and_files(exported: tuple[Board, str], kind: str) -> None:
    _, url = exported
    t = open_transport(url, kind)
    try:
        assert t.exec("import sys\nprint(sys.platform)") == "linux\n"
        lines = list(t.exec_stream("for i in range(3):\n print('n', i)"))
        assert lines == ["n 0", "n 1", "n 2"]
        t.write_file("over_net.txt", b"via ser2net\n" * 40)
        assert t.read_file("over_net.txt") == b"via ser2net\n" * 40
    finally:
        t.close()


def test_flash_through_rfc2217(exported: tuple[Board, str]) -> None:
    board, url = exported
    remote = Board(board.profile, port=url, root=board.root).connect()
    try:
        first = flash(remote, progress=False)
        second = flash(remote, progress=False)
        assert first.transferred == first.checked and second.transferred == 0
        assert remote.exec("import ktimers_board\nprint(ktimers_board.BACKEND)") == "unix\n"
    finally:
        remote.close()


def test_board_dies_behind_ser2net(exported: tuple[Board, str]) -> None:
    board, url = exported
    t = open_transport(url)
    try:
        assert board.process is not None
        stream = t.exec_stream("import time\nwhile True:\n print('x')\n time.sleep(0.05)", 60)
        t0 = 0.0
        with pytest.raises(LinkLost) as ei:
            for i, _ in enumerate(stream):
                if i == 3:
                    t0 = time.monotonic()
                    board.process.kill()
        assert time.monotonic() - t0 < 10, "no hang when the far end dies"
        assert ei.value.output.splitlines()[:4] == ["x"] * 4
    finally:
        t.close()


def test_emulated_board_through_rfc2217(own_emulator: object, tmp_path: Path) -> None:
    """The emulated board's UART, exported by ser2net like a board in a lab:
    flash the library, run a hard-IRQ hrtimer, and pull a framed trace dump
    through the RFC2217 link (validate's own scenario and checksums)."""
    from argparse import Namespace

    from ktimers_host import validate

    pty = str(own_emulator.pty)  # type: ignore[attr-defined]
    with ser2net(pty, tmp_path) as url:
        b = Board("mps2-an385", port=url).connect()
        try:
            rep = flash(b, progress=False)
            assert rep.checked > 10  # the flash image may already hold them: then 0 move
            assert b.exec("import ktimers\nprint(ktimers.core.hw.NAME)") == "mps2\n"
            out = tmp_path / "v.json"
            args = Namespace(
                json=str(out), junit=None, plot=None, scenario=["hr-1ms-hard"], samples=None
            )
            validate.main(args, b)
        finally:
            b.close()
    import json

    doc = json.loads(out.read_text())
    (r,) = doc["scenarios"]
    assert not doc["partial"] and r["frame_errors"] == [], (doc["error"], r["frame_errors"])
    assert r["samples"] >= 1000 and r["early"] == 0 and r["hard_irq_samples"] == r["samples"]
