"""The link's error types, and the bounded record of a command's output they carry.

`LinkError` and its kinds are failures of the link (the command's outcome is unknown);
`BoardError` is code that raised on the board (the link worked).  The CLI maps them to
different exit codes.
"""

from __future__ import annotations

from typing import Any

MAX_LINE = 64 * 1024  # longest line kept whole; an endless line is passed on in pieces
OUTPUT_CAP = 4 * 1024 * 1024  # output kept in memory for errors/last_output; the rest spills


class LinkError(Exception):
    """The link to the board failed; ``output`` holds what arrived before the failure."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output


class LinkTimeout(LinkError):
    """The board did not answer in time."""


class LinkLost(LinkError):
    """The port closed or vanished (process killed, cable pulled, socket dropped)."""


class BoardReset(LinkError):
    """The board rebooted while a command ran (banner seen, raw REPL lost)."""


class LinkCorrupt(LinkError):
    """The reply broke the raw-REPL protocol: an end mark in the wrong place, an unexpected
    byte during raw paste, a frame failing its check.  The link garbled bytes; this is not
    an exception raised on the board."""


class LinkOverflow(LinkError):
    """The board sent more than the host will hold (an endless reply or traceback)."""


class BoardError(Exception):
    """Code run on the board raised; ``traceback`` is the board's text."""

    def __init__(self, traceback: str, output: str = "") -> None:
        last = traceback.strip().splitlines()[-1] if traceback.strip() else "error"
        super().__init__(last)
        self.traceback = traceback
        self.output = output


class _Output:
    """The output of one exec kept for errors and ``last_output``: the first ``cap`` bytes
    in memory, every later line appended to a spill file (``ktimers-output-*.log`` in the
    temp dir), so a board that never stops printing costs the host no more than ``cap``."""

    def __init__(self, cap: int = OUTPUT_CAP) -> None:
        self.cap = cap
        self.lines: list[str] = []
        self.size = 0
        self.spilled = 0
        self._spill: Any = None

    @property
    def spill_path(self) -> str | None:
        return self._spill.name if self._spill is not None else None

    def add(self, line: str) -> None:
        if self._spill is None and self.size + len(line) + 1 <= self.cap:
            self.lines.append(line)
            self.size += len(line) + 1
            return
        if self._spill is None:
            import tempfile

            self._spill = tempfile.NamedTemporaryFile(
                "w", prefix="ktimers-output-", suffix=".log", delete=False, errors="replace"
            )
        self._spill.write(line + "\n")
        self.spilled += 1

    def text(self, partial: str = "") -> str:
        s = "\n".join(self.lines)
        if partial:
            s += ("\n" if s else "") + partial[:MAX_LINE]
        if self._spill is not None:
            self._spill.flush()
            s += f"\n[... {self.spilled} more lines in {self._spill.name}]"
        return s

    def close(self) -> None:
        if self._spill is not None:
            self._spill.close()
