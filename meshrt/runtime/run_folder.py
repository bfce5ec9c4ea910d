"""Claiming a run folder: one live run per folder.

A run holds an advisory lock (``fcntl.flock``) on ``run.lock`` inside its folder for as
long as it runs. The kernel drops the lock when the process ends, however it ends, so a
folder left by a killed run (kill -9 included) can be resumed at once, while a second
run, or a resume, aimed at a folder a live run holds is refused instead of interleaving
two logs. flock locks belong to an open file description: two claims in one process
conflict as two processes do.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from meshrt.runtime.run_file import RUN_FILE  # what marks a folder as holding a run

LOCK_FILE = "run.lock"


class RunFolderError(Exception):
    """A folder that cannot be claimed; the message names it and says why."""


class RunFolder:
    """A claimed run folder; ``release()`` (or the process ending) gives it up."""

    __slots__ = ("path", "_fd")

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor drops the flock
            self._fd = None


def claim(path: Path, fresh: bool = False) -> RunFolder:
    """Create (if needed) and lock ``path``. With ``fresh`` (a default folder name), a
    folder that already exists is never reused: the first free ``PATH-2``, ``PATH-3``...
    is taken instead, so two runs started in the same second get two folders."""
    if not fresh:
        _make(path, exist_ok=True)
        return _lock(path)
    candidate, n = path, 1
    while True:
        if _make(candidate, exist_ok=False):
            return _lock(candidate)
        n += 1
        candidate = path.with_name(f"{path.name}-{n}")


def refuse_a_run_in(folder: RunFolder) -> None:
    """A new run must not overwrite the record of another (its run file) by accident:
    release the folder and refuse."""
    if (folder.path / RUN_FILE).exists():
        folder.release()
        raise RunFolderError(
            f"{folder.path}: holds a run already ({RUN_FILE}); resume it with --resume, "
            "choose another folder, or replace it with --replace"
        )


def _make(path: Path, exist_ok: bool) -> bool:
    """Create the folder; False if it exists and ``exist_ok`` is False."""
    if path.exists() and not path.is_dir():
        raise RunFolderError(f"{path}: exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=exist_ok)
    except FileExistsError:
        if not path.is_dir():
            raise RunFolderError(f"{path}: exists and is not a folder") from None
        return False
    except OSError as exc:
        raise RunFolderError(f"{path}: cannot create the run folder: {exc.strerror}") from None
    return True


def _lock(path: Path) -> RunFolder:
    lock = path / LOCK_FILE
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise RunFolderError(f"{lock}: cannot open the run lock: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode("ascii", "replace").strip()
        os.close(fd)
        raise RunFolderError(
            f"{path}: in use by a live run"
            + (f" (pid {holder})" if holder else "")
            + "; wait for it to end or choose another folder"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return RunFolder(path, fd)
