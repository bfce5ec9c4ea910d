"""What reading a replay log can raise: every error names the file, the line, the seq id
when it is known, and the problem.

A *torn* final line (the process died mid-write) is expected after a crash and resume
truncates it (``LogTorn.offset``); anything else wrong (``LogCorrupt``) means the file
cannot be trusted; a log of another format or version is refused (``LogVersionError``).
"""

from __future__ import annotations

from pathlib import Path


class LogError(ValueError):
    """A replay log that cannot be read as written; ``str()`` says file:line (seq): problem."""

    def __init__(
        self,
        path: Path,
        line: int,
        problem: str,
        seq: int | None = None,
        after_seq: int | None = None,
    ) -> None:
        where = f"seq {seq}" if seq is not None else (f"after seq {after_seq}" if after_seq else "")
        super().__init__(f"{path}:{line}: {where + ': ' if where else ''}{problem}")
        self.path = path
        self.line = line
        self.seq = seq
        self.problem = problem


class LogCorrupt(LogError):
    """A record (or the header) is damaged or not what this version writes."""


class LogVersionError(LogError):
    """The header names another format or version: refused rather than misread."""


class LogTorn(LogError):
    """The final line was cut short by a crash mid-write.

    ``offset`` is the byte length of the intact prefix (truncate the file to it) and
    ``last_seq`` the seq of the last whole record (0 if none).
    """

    def __init__(self, path: Path, line: int, problem: str, offset: int, last_seq: int) -> None:
        super().__init__(path, line, problem, after_seq=last_seq)
        self.offset = offset
        self.last_seq = last_seq
