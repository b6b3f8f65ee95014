"""The on-disk spool: one folder per clip holding `clip.mp4`, `frame.jpg` and `state.json`.

A clip is built in `.incoming/<id>/` and renamed into place when complete, so every folder in the spool
is a whole clip; `state.json` is replaced atomically at every step, so a crash leaves either the old state
or the new one and work resumes where it stopped. Every rename that makes a clip or a state visible (and the
deletion of a finished clip) is followed by an fsync of its directory, so a power cut cannot undo it.

The spool keeps a running total of its committed clips' bytes (`bytes_used`) for the disk budget
(pi_app.spool_budget) without walking thousands of folders for every frame.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import threading
from pathlib import Path

from facegate_contract import CLIP_ID_RE, PRIVATE_DIR_MODE
from pi_app.clip_names import clip_seq
from pi_app.clip_state import ClipState
from pi_app.durable_files import DISK_SYNC, DiskSync, private_dir, private_file, write_atomically

log = logging.getLogger(__name__)

CLIP_FILE = "clip.mp4"
FRAME_FILE = "frame.jpg"
STATE_FILE = "state.json"
INCOMING = ".incoming"

__all__ = ["CLIP_FILE", "FRAME_FILE", "INCOMING", "STATE_FILE", "Spool", "write_atomically"]


def folder_bytes(folder: Path) -> int:
    """Bytes of the files directly in `folder` (a clip folder has no subfolders); 0 if it is gone."""
    try:
        return sum(entry.stat().st_size for entry in os.scandir(folder) if entry.is_file())
    except FileNotFoundError:
        return 0


class Spool:
    """Clips waiting for recognition and upload, on disk so nothing is lost across restarts."""

    def __init__(self, root: Path, keep_done: bool = False, sync: DiskSync = DISK_SYNC) -> None:
        self.root = Path(root)
        self.keep_done = keep_done  # keep finished folders (for inspection) instead of deleting them
        self.sync = sync
        (self.root / INCOMING).mkdir(parents=True, exist_ok=True)
        private_dir(self.root)  # clips are faces: owner-only, an older world-readable spool included
        self._lock = threading.Lock()  # the recorder commits while workers finish
        self._sizes = {clip: folder_bytes(self.folder(clip)) for clip in self.clips()}
        self._total = sum(self._sizes.values())

    def folder(self, clip: str) -> Path:
        """The folder of a committed clip."""
        return self.root / clip

    def staging(self, clip: str) -> Path:
        """A fresh folder to build a clip in before `commit`."""
        path = self.root / INCOMING / clip
        path.mkdir(parents=True, exist_ok=False, mode=PRIVATE_DIR_MODE)
        os.chmod(path, PRIVATE_DIR_MODE)  # mkdir's mode is cut by the umask
        return path

    def commit(self, state: ClipState) -> Path:
        """Write the first state and move the staged clip into the spool (one rename: all or nothing)."""
        staged = self.root / INCOMING / state.clip
        for name in (CLIP_FILE, FRAME_FILE):  # written by the recorder; on disk before the rename publishes them
            if (staged / name).exists():
                private_file(staged / name)  # OpenCV wrote it with the umask's mode
                self.sync.file(staged / name)
        write_atomically(staged / STATE_FILE, json.dumps(state.to_json()), self.sync)
        size = folder_bytes(staged)
        final = self.folder(state.clip)
        os.replace(staged, final)
        self.sync.directory(self.root)  # the clip now exists...
        self.sync.directory(self.root / INCOMING)  # ...and is no longer half-recorded
        with self._lock:
            self._total += size - self._sizes.get(state.clip, 0)
            self._sizes[state.clip] = size
        return final

    def load(self, clip: str) -> ClipState:
        """The saved state of a clip."""
        return ClipState.from_json(json.loads((self.folder(clip) / STATE_FILE).read_text(encoding="utf-8")))

    def save(self, state: ClipState) -> None:
        """Persist a clip's state atomically and durably."""
        write_atomically(self.folder(state.clip) / STATE_FILE, json.dumps(state.to_json()), self.sync)

    def finish(self, state: ClipState) -> None:
        """A clip needs nothing more: delete its folder (or keep it, marked finished, with `keep_done`)."""
        if self.keep_done:
            self.save(state)
            return
        shutil.rmtree(self.folder(state.clip), ignore_errors=True)
        self.sync.directory(self.root)  # else a power cut could bring the finished folder back
        with self._lock:
            self._total -= self._sizes.pop(state.clip, 0)

    def bytes_used(self) -> int:
        """Bytes of every committed clip as it was committed (kept finished clips included; the clip being
        recorded and later state updates of a few hundred bytes are not counted)."""
        with self._lock:
            return self._total

    def clips(self) -> list[str]:
        """Every committed clip in the spool, oldest first."""
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and CLIP_ID_RE.match(p.name))

    def unfinished(self) -> list[str]:
        """The clips that still need recognition or upload, oldest first (what a restart resumes)."""
        pending = []
        for clip in self.clips():
            try:
                if not self.load(clip).finished:
                    pending.append(clip)
            except (OSError, ValueError, TypeError) as exc:
                # Left on disk for a person to look at; the rest of the spool carries on.
                log.error("unreadable clip state", extra={"clip": clip, "error": repr(exc)})
        return pending

    def discard_incomplete(self) -> list[str]:
        """Delete clips a crash left half-recorded (their MP4 has no index and cannot be played)."""
        incoming = self.root / INCOMING
        lost = sorted(p.name for p in incoming.iterdir())
        for name in lost:
            shutil.rmtree(incoming / name, ignore_errors=True)
        if lost:
            log.warning("discarded half-recorded clips", extra={"clips": lost})
        return lost

    def next_seq(self) -> int:
        """A sequence number above every clip in the spool, so ids stay unique across restarts."""
        names = self.clips() + [p.name for p in (self.root / INCOMING).iterdir() if CLIP_ID_RE.match(p.name)]
        return max((clip_seq(n) for n in names), default=-1) + 1
