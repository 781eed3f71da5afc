"""MicroPython packaging: ``package.json`` (``mpremote mip install``) and ``manifest.py``
(freezing) name exactly the files of ``lib/ktimers``, and mip really installs the library
on a board, from a local path and from a repository URL (served here over HTTP, as
raw.githubusercontent.com serves a ``github:`` URL)."""

from __future__ import annotations

import functools
import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ktimers_host import __version__, profiles
from ktimers_host.board import Board

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "build" / "src" / "micropython-1.25.0"


def lib_files() -> list[str]:
    return sorted(
        p.relative_to(ROOT / "lib").as_posix()
        for p in (ROOT / "lib" / "ktimers").rglob("*.py")
        if "__pycache__" not in p.parts
    )


def test_package_json_lists_every_library_file() -> None:
    doc = json.loads((ROOT / "package.json").read_text())
    urls = doc["urls"]
    assert [dest for dest, _ in urls] == lib_files(), (
        "package.json is out of step with lib/: its urls should be\n"
        + ",\n".join(json.dumps([f, "lib/" + f]) for f in lib_files())
    )
    assert all(src == "lib/" + dest for dest, src in urls)
    assert doc["version"] == __version__


def test_manifest_freezes_every_library_file() -> None:
    """Loaded with MicroPython's own tools/manifestfile.py, as a firmware build does."""
    if not (SRC / "tools" / "manifestfile.py").exists():
        pytest.fail(f"{SRC} is missing: run `make setup`")
    sys.path.insert(0, str(SRC / "tools"))
    try:
        import manifestfile
    finally:
        sys.path.pop(0)
    path_vars = {"MPY_DIR": str(SRC), "MPY_LIB_DIR": ""}
    m = manifestfile.ManifestFile(manifestfile.MODE_FREEZE, path_vars)
    m.execute(str(ROOT / "manifest.py"))
    frozen = sorted(r.target_path for r in m.files())
    assert frozen == lib_files()
    assert m.metadata().version == __version__


@pytest.fixture
def relay_board(tmp_path: Path) -> Iterator[Board]:
    """A unix board of our own, reached by mpremote on its pty (our transport closed)."""
    prof = profiles.load("unix")
    prof["connect"] = dict(prof["connect"], fs=str(tmp_path / "fs"))
    b = Board(prof, root=ROOT).connect()
    assert b.t is not None
    b.t.close()
    b.t = None
    yield b
    b.close()


def _mip(url: str, package: str, target: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mpremote", "connect", url, "resume", "mip", "install"]
        + ["--target", target, package],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _installed(fs: Path, target: str) -> list[str]:
    base = fs / target
    return sorted(p.relative_to(base).as_posix() for p in base.rglob("*.py"))


def _imports(b: Board, target: str) -> str:
    b.connect()
    code = f"import sys\nsys.path.insert(0, {target!r})\nimport ktimers\nprint(ktimers.__file__)"
    return b.exec(code).strip()


def test_mip_install_from_local_path(relay_board: Board) -> None:
    assert relay_board.process is not None
    url = relay_board.process.start()
    r = _mip(url, str(ROOT / "package.json"), "mip-local")
    assert r.returncode == 0, r.stdout + r.stderr
    assert _installed(relay_board.process.fs_dir, "mip-local") == lib_files()
    assert _imports(relay_board, "mip-local") == "mip-local/ktimers/__init__.py"


@pytest.fixture
def repo_url() -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(ROOT))
    handler.log_message = lambda *a: None  # type: ignore[method-assign]
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_mip_install_from_repository_url(relay_board: Board, repo_url: str) -> None:
    assert relay_board.process is not None
    url = relay_board.process.start()
    r = _mip(url, repo_url + "/", "mip-url")  # a folder URL: mip fetches its package.json
    assert r.returncode == 0, r.stdout + r.stderr
    assert "package.json" in r.stdout
    assert _installed(relay_board.process.fs_dir, "mip-url") == lib_files()
    assert _imports(relay_board, "mip-url") == "mip-url/ktimers/__init__.py"
