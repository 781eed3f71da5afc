"""Flash cleanup deletes only files inside the library's folder on the board, whatever
path a broken or hostile board lists."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "path, ok",
    [
        ("/lib/ktimers/core.mpy", True),
        ("/lib/ktimers/backends/unix.mpy", True),
        ("/lib/ktimers/../../boot.py", False),
        ("/lib/ktimers/./core.mpy", False),
        ("/lib/ktimers//core.mpy", False),
        ("/lib/ktimers", False),
        ("/lib/ktimersX/core.mpy", False),
        ("/lib/ktimers/a\x00b", False),
    ],
)
def test_flash_cleanup_stays_inside_its_folder(path: str, ok: bool) -> None:
    from ktimers_host.flash import inside

    assert inside("/lib/ktimers", path) is ok
