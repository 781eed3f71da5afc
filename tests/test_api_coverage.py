"""The README's API coverage table is true: every name marked `present`
exists in `ktimers` on real MicroPython (unix port), every `absent` one not."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNIX = ROOT / "build" / "unix" / "micropython"
ROW = re.compile(r"^\| [\w.]+ \| `(\w+)` \| (present|absent) \|")


def table() -> dict[str, str]:
    rows = {}
    for line in (ROOT / "README.md").read_text().splitlines():
        m = ROW.match(line)
        if m:
            rows[m.group(1)] = m.group(2)
    return rows


def test_readme_table_matches_library() -> None:
    rows = table()
    assert len(rows) > 100, "README API table not found"
    # `trace` is a submodule a program imports (loaded on first use, not by `import ktimers`)
    code = (
        "import ktimers, ktimers.trace\n"
        "print(' '.join(k for k in dir(ktimers) if not k.startswith('_')))\n"
    )
    out = subprocess.run(
        [str(UNIX), "-c", code],
        env=dict(os.environ, MICROPYPATH=str(ROOT / "lib")),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    names = set(out.split())
    wrong_present = [n for n, s in rows.items() if s == "present" and n not in names]
    wrong_absent = [n for n, s in rows.items() if s == "absent" and n in names]
    assert not wrong_present, f"README says present, library lacks: {wrong_present}"
    assert not wrong_absent, f"README says absent, library has: {wrong_absent}"
