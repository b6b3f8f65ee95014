"""Writes that survive a power cut: data fsynced before a rename, and the directory fsynced after it.

A rename is only durable once the directory holding the new name is on disk: without that fsync a power
cut can bring back the old name (a clip that was never committed, a state from two steps ago).
`DiskSync` is the one place that calls fsync, so tests can watch what is synced and when.
"""
from __future__ import annotations

import os
from pathlib import Path

from facegate_contract import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, write_private_text


class DiskSync:
    """fsync of an open file, a file by path, or a directory."""

    def handle(self, fd: int) -> None:
        """Flush an open file descriptor's data to disk."""
        os.fsync(fd)

    def file(self, path: Path) -> None:
        """Flush a written file's data to disk."""
        self._sync_path(path, os.O_RDONLY)

    def directory(self, path: Path) -> None:
        """Flush a directory's entries to disk: what makes a rename, a new file or a deletion in it durable."""
        self._sync_path(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))

    def _sync_path(self, path: Path, flags: int) -> None:
        fd = os.open(path, flags)
        try:
            self.handle(fd)
        finally:
            os.close(fd)


DISK_SYNC = DiskSync()


def write_atomically(path: Path, text: str, sync: DiskSync = DISK_SYNC) -> None:
    """Replace `path` with `text` so readers (and a restart after a crash) see the old or the new file, never half,
    and the new one once this returns. The file is owner-only (0600): it may hold names and details of visitors."""
    # The data must be on disk before the rename makes it the file...
    write_private_text(path, text, on_disk=sync.handle)
    sync.directory(path.parent)  # ...and the rename itself before we say it is done


def private_dir(path: Path) -> Path:
    """Make `path` (and its parents) if missing, and make it and everything under it owner-only: folders 0700,
    files 0600. Modes are set with chmod, so no umask matters, and an older, world-readable tree is tightened."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    for folder, _, files in os.walk(path):  # does not follow links to folders
        os.chmod(folder, PRIVATE_DIR_MODE)
        for name in files:
            file = os.path.join(folder, name)
            if not os.path.islink(file):  # chmod would change the link's target, wherever it is
                os.chmod(file, PRIVATE_FILE_MODE)
    return path


def private_file(path: Path) -> None:
    """Make one file owner-only (0600), e.g. one a library wrote with the process's umask."""
    os.chmod(path, PRIVATE_FILE_MODE)
