"""The on-disk spool: one folder per clip holding `clip.mp4`, `frame.jpg` and `state.json`.

A clip is built in `.incoming/<id>/` and renamed into place when complete, so every folder in the spool
is a whole clip; `state.json` is replaced atomically at every step, so a crash leaves either the old state
or the new one and work resumes where it stopped. Every rename that makes a clip or a state visible (and the
deletion of a finished clip) is followed by an fsync of its directory, so a power cut cannot undo it.

The spool keeps a running total of its committed clips' bytes (`bytes_used`) for the disk budget
(pi_app.recording.spool_budget) without walking thousands of folders for every frame.

Clips the upload policy keeps on the device (pi_app.recording.upload_policy: an empty doorway) move to `.kept/`:
a rolling budget of `keep_max_bytes`, oldest clip deleted first, that never pauses recording. A kept clip can be
brought back (`promote`) to be uploaded after all: the margin before a visit.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import threading
from collections import OrderedDict
from pathlib import Path

from facegate_contract import PRIVATE_DIR_MODE, is_clip_id
from pi_app.recording.clip_names import clip_seq
from pi_app.recording.clip_state import KEPT_LOCAL, WANTED, ClipState
from pi_app.recording.clip_video import video_facts
from pi_app.recording.durable_files import DISK_SYNC, DiskSync, private_dir, private_file, write_atomically

log = logging.getLogger(__name__)

CLIP_FILE = "clip.mp4"
FRAME_FILE = "frame.jpg"
STATE_FILE = "state.json"
INCOMING = ".incoming"
DAMAGED = ".damaged"  # clips with no video left to upload: kept for a person to look at, never uploaded
KEPT = ".kept"  # clips kept on the device instead of S3 (the `visits` upload policy), oldest deleted first
DEFAULT_KEEP_MAX_BYTES = 1024**3  # ~6 h of empty doorway at ~25 kB a half-second clip

__all__ = ["CLIP_FILE", "DAMAGED", "FRAME_FILE", "INCOMING", "KEPT", "STATE_FILE", "Spool", "write_atomically"]


def folder_bytes(folder: Path) -> int:
    """Bytes of the files directly in `folder` (a clip folder has no subfolders); 0 if it is gone."""
    try:
        return sum(entry.stat().st_size for entry in os.scandir(folder) if entry.is_file())
    except FileNotFoundError:
        return 0


class Spool:
    """Clips waiting for recognition and upload, on disk so nothing is lost across restarts."""

    def __init__(self, root: Path, keep_done: bool = False, sync: DiskSync = DISK_SYNC,
                 device_id: str | None = None, keep_max_bytes: int = DEFAULT_KEEP_MAX_BYTES) -> None:
        self.root = Path(root)
        self.keep_done = keep_done  # keep finished folders (for inspection) instead of deleting them
        self.sync = sync
        self.device_id = device_id  # rebuilds a clip's unreadable state (None: such a clip is left alone)
        (self.root / INCOMING).mkdir(parents=True, exist_ok=True)
        private_dir(self.root)  # clips are faces: owner-only, an older world-readable spool included
        self._lock = threading.Lock()  # the recorder commits while workers finish
        self._sizes = {clip: folder_bytes(self.folder(clip)) for clip in self.clips()}
        self._total = sum(self._sizes.values())
        self.keep_max_bytes = keep_max_bytes
        (self.root / KEPT).mkdir(exist_ok=True, mode=PRIVATE_DIR_MODE)
        self._kept = OrderedDict((clip, folder_bytes(self.kept_folder(clip))) for clip in self.kept_clips())
        self._kept_total = sum(self._kept.values())

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
        """The saved state of a clip; raises OSError, ValueError or TypeError when it cannot be read."""
        state = ClipState.from_json(json.loads((self.folder(clip) / STATE_FILE).read_text(encoding="utf-8")))
        if state.clip != clip:
            raise ValueError(f"the state in {clip}/ is that of clip {state.clip!r}")
        return state

    def resume(self, clip: str) -> ClipState | None:
        """The state to carry on with: the saved one or, when that cannot be read (a corrupt SD card), one rebuilt
        from the clip's id and the device id, so its video still reaches S3. None when there is nothing to carry on
        with: a clip with no video left to upload is moved to `.damaged/`; without a device id an unreadable state
        is left alone."""
        try:
            state: ClipState | None = self.load(clip)
            error: Exception | None = None
        except (OSError, ValueError, TypeError) as exc:
            state, error = None, exc
        if (state is None or not state.upload.final) and not self.has_video(clip):
            self.quarantine(clip, "clip.mp4 is missing or empty" + (f"; state unreadable: {error!r}" if error else ""))
            return None
        if state is None:
            if self.device_id is None:
                log.error("unreadable clip state", extra={"clip": clip, "error": repr(error)[:300]})
                return None
            facts = video_facts(self.folder(clip) / CLIP_FILE)
            state = ClipState.rebuilt(clip, self.device_id, frames=facts.frames, duration_s=facts.duration_s,
                                      fourcc=facts.fourcc)
            self.save(state)  # rebuilt once: the next start reads it like any other
            log.warning("clip state rebuilt", extra={"clip": clip, "error": repr(error)[:300]})
        return state

    def has_video(self, clip: str) -> bool:
        """True when the clip's folder holds a non-empty clip.mp4."""
        try:
            return (self.folder(clip) / CLIP_FILE).stat().st_size > 0
        except OSError:
            return False

    def quarantine(self, clip: str, reason: str) -> None:
        """Move a clip that cannot be uploaded out of the spool, to `.damaged/`, so it is not tried at every start."""
        damaged = self.root / DAMAGED
        damaged.mkdir(exist_ok=True, mode=PRIVATE_DIR_MODE)
        target = damaged / clip
        shutil.rmtree(target, ignore_errors=True)  # an older copy of the same id
        os.replace(self.folder(clip), target)
        self.sync.directory(self.root)
        with self._lock:
            self._total -= self._sizes.pop(clip, 0)
        log.error("clip has no video to upload; moved aside", extra={"clip": clip, "reason": reason[:300],
                                                                      "moved_to": str(target)})

    def save(self, state: ClipState) -> None:
        """Persist a clip's state atomically and durably."""
        write_atomically(self.folder(state.clip) / STATE_FILE, json.dumps(state.to_json()), self.sync)

    def finish(self, state: ClipState) -> None:
        """A clip needs nothing more: delete its folder (or keep it, marked finished, with `keep_done`)."""
        if self.keep_done:
            if self.folder(state.clip).is_dir():  # a clip bundled from the kept ones has no folder here to keep
                self.save(state)
            return
        shutil.rmtree(self.folder(state.clip), ignore_errors=True)
        self.sync.directory(self.root)  # else a power cut could bring the finished folder back
        with self._lock:
            self._total -= self._sizes.pop(state.clip, 0)

    def kept_folder(self, clip: str) -> Path:
        """The folder of a clip kept on the device."""
        return self.root / KEPT / clip

    def load_kept(self, clip: str) -> ClipState:
        """The saved state of a clip kept on the device; raises like `load`."""
        return ClipState.from_json(json.loads((self.kept_folder(clip) / STATE_FILE).read_text(encoding="utf-8")))

    def kept_clips(self) -> list[str]:
        """The clips kept on the device, oldest first."""
        return sorted(p.name for p in (self.root / KEPT).iterdir() if p.is_dir() and is_clip_id(p.name))

    def kept_bytes(self) -> int:
        """Bytes of the clips kept on the device (not counted in `bytes_used`: that area makes its own room)."""
        with self._lock:
            return self._kept_total

    def keep(self, state: ClipState) -> list[str]:
        """Move a finished clip (upload status kept_local) to `.kept/`, then delete the oldest kept clips while the
        area is over `keep_max_bytes`; returns the clips deleted."""
        self.save(state)
        os.replace(self.folder(state.clip), self.kept_folder(state.clip))
        self.sync.directory(self.root)
        self.sync.directory(self.root / KEPT)
        evicted, size = [], folder_bytes(self.kept_folder(state.clip))  # with its final state
        with self._lock:
            self._total -= self._sizes.pop(state.clip, 0)
            self._kept[state.clip] = size
            self._kept_total += size
            while self._kept_total > self.keep_max_bytes and len(self._kept) > 1:
                oldest = min(self._kept)  # clip ids sort by recording time
                self._kept_total -= self._kept.pop(oldest)
                evicted.append(oldest)
        for clip in evicted:
            shutil.rmtree(self.kept_folder(clip), ignore_errors=True)
        if evicted:
            self.sync.directory(self.root / KEPT)
        return evicted

    def promote(self, clip: str) -> ClipState | None:
        """Bring a kept clip back into the spool to be uploaded after all (its upload pending again); None when it
        is not kept (never was, already deleted by the budget, or brought back by another worker)."""
        with self._lock:
            if clip not in self._kept:
                return None
            size = self._kept.pop(clip)
            self._kept_total -= size
        os.replace(self.kept_folder(clip), self.folder(clip))
        self.sync.directory(self.root / KEPT)
        self.sync.directory(self.root)
        with self._lock:
            self._sizes[clip] = size
            self._total += size
        state = self.resume(clip)  # an unreadable state is rebuilt, as for any clip that needs its upload
        if state is not None:
            state.upload.status = WANTED
            self.save(state)
        return state

    def bytes_used(self) -> int:
        """Bytes of every committed clip as it was committed (kept finished clips included; the clip being
        recorded and later state updates of a few hundred bytes are not counted)."""
        with self._lock:
            return self._total

    def clips(self) -> list[str]:
        """Every committed clip in the spool, oldest first."""
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and is_clip_id(p.name))

    def unfinished(self) -> list[str]:
        """The clips that still need recognition or upload, oldest first (what a restart resumes)."""
        pending = []
        for clip in self.clips():
            state = self.resume(clip)
            if state is not None and state.upload.status == KEPT_LOCAL:
                self.keep(state)  # a crash came between its state and its move to `.kept/`
            elif state is not None and not state.finished:
                pending.append(clip)
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
        incoming = [p.name for p in (self.root / INCOMING).iterdir() if is_clip_id(p.name)]
        names = self.clips() + self.kept_clips() + incoming
        return max((clip_seq(n) for n in names), default=-1) + 1
