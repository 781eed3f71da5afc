"""Board profiles: ``boards/<name>.json`` (host part and the ``device`` dict for the board)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

REPO_ROOT = Path(os.environ.get("KTIMERS_ROOT", Path(__file__).resolve().parents[2]))
BOARDS_DIR = REPO_ROOT / "boards"
# The one default board of the command line and the pytest plugin (KTIMERS_BOARD overrides).
DEFAULT_BOARD = os.environ.get("KTIMERS_BOARD") or "mps2-an385"
_VIDPID = re.compile(r"([0-9A-Fa-f]{4}):([0-9A-Fa-f]{4})")


class NotBuilt(RuntimeError):
    """A build product the board needs (firmware, unix port binary) is missing."""

    def __init__(self, what: str, path: Path, target: str) -> None:
        super().__init__(f"{what} not built: {path} is missing (run `make {target}`)")
        self.path = path
        self.target = target


Profile = dict[str, Any]


def names(boards_dir: Path = BOARDS_DIR) -> list[str]:
    return sorted(p.stem for p in boards_dir.glob("*.json"))


def load(name: str, boards_dir: Path = BOARDS_DIR) -> Profile:
    """The profile called ``name`` (a file stem in ``boards/`` or a path to a .json file)."""
    path = Path(name) if name.endswith(".json") else boards_dir / f"{name}.json"
    try:
        data: Profile = json.loads(path.read_text())
    except FileNotFoundError:
        known = ", ".join(names(boards_dir)) or "none"
        raise KeyError(f"no board profile {name!r} (known: {known})") from None
    data.setdefault("name", path.stem)
    for key in ("connect", "flash", "device", "micropython", "tolerances"):
        data.setdefault(key, {})
    return data


def list(boards_dir: Path = BOARDS_DIR) -> list[Profile]:  # noqa: A001 - the brief's name
    return [load(n, boards_dir) for n in names(boards_dir)]


def usb_ids(profile: Profile) -> list[tuple[int, int]]:
    """(VID, PID) pairs of a profile's ``connect.usb`` list of "VVVV:PPPP" strings."""
    ids = []
    for s in profile.get("connect", {}).get("usb", []):
        m = _VIDPID.fullmatch(str(s))
        if not m:
            raise ValueError(f"board {profile.get('name')}: usb id {s!r} is not VVVV:PPPP")
        ids.append((int(m[1], 16), int(m[2], 16)))
    return ids


def platform(profile: Profile) -> str | None:
    """The ``sys.platform`` the profile's board reports, or None when any port will do."""
    plat = profile.get("micropython", {}).get("platform")
    return None if plat in (None, "", "unknown") else str(plat)


def board_module(profile: Profile) -> str:
    """Text of ``ktimers_board.py`` for the profile's ``device`` dict."""
    lines = [f"# ktimers_board: written by `ktimers flash` from boards/{profile['name']}.json"]
    for key, value in profile.get("device", {}).items():
        if not key.isidentifier():
            raise ValueError(f"device key {key!r} is not an identifier")
        if not isinstance(value, str | int | float | bool | type(None)):
            raise ValueError(f"device key {key!r}: {value!r} is not a plain value")
        lines.append(f"{key} = {value!r}")
    return "\n".join(lines) + "\n"
