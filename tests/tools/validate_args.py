"""The arguments `validate.main` takes from the command line, with the CLI's defaults and
reports written under ``tmp_path`` (for tests that drive validate without a shell)."""

from __future__ import annotations

from argparse import Namespace
from pathlib import Path


def validate_args(tmp_path: Path, **kw: object) -> Namespace:
    base: dict[str, object] = dict(
        json=str(tmp_path / "v.json"),
        junit=str(tmp_path / "v.xml"),
        plot=None,
        scenario=None,
        samples=None,
        histogram=None,
        histfile=None,
    )
    base.update(kw)
    return Namespace(**base)
