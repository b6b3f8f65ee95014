"""Writes that survive a power cut: data fsynced before a rename, and the directory fsynced after it.

A rename is only durable once the directory holding the new name is on disk: without that fsync a power
cut can bring back the old name (a clip that was never committed, a state from two steps ago).
`DiskSync` is the one place that calls fsync, so tests can watch what is synced and when.
"""
from __future__ import annotations

import os
from pathlib import Path


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
    and the new one once this returns."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        sync.handle(handle.fileno())  # the data must be on disk before the rename makes it the file
    os.replace(tmp, path)
    sync.directory(path.parent)  # ...and the rename itself before we say it is done
