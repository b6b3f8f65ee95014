"""The on-disk spool: one folder per clip holding `clip.mp4`, `frame.jpg` and `state.json`.

A clip is built in `.incoming/<id>/` and renamed into place when complete, so every folder in the spool
is a whole clip; `state.json` is replaced atomically (temp file + fsync + os.replace) at every step, so a
crash or power cut leaves either the old state or the new one and work resumes where it stopped.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

from facegate_contract import CLIP_ID_RE
from pi_app.clip_names import clip_seq
from pi_app.clip_state import ClipState

log = logging.getLogger(__name__)

CLIP_FILE = "clip.mp4"
FRAME_FILE = "frame.jpg"
STATE_FILE = "state.json"
INCOMING = ".incoming"


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` so readers (and a restart after a crash) see the old or the new file, never half."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())  # the data must be on disk before the rename makes it the state
    os.replace(tmp, path)


class Spool:
    """Clips waiting for recognition and upload, on disk so nothing is lost across restarts."""

    def __init__(self, root: Path, keep_done: bool = False) -> None:
        self.root = Path(root)
        self.keep_done = keep_done  # keep finished folders (for inspection) instead of deleting them
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / INCOMING).mkdir(exist_ok=True)

    def folder(self, clip: str) -> Path:
        """The folder of a committed clip."""
        return self.root / clip

    def staging(self, clip: str) -> Path:
        """A fresh folder to build a clip in before `commit`."""
        path = self.root / INCOMING / clip
        path.mkdir(parents=True, exist_ok=False)
        return path

    def commit(self, state: ClipState) -> Path:
        """Write the first state and move the staged clip into the spool (one rename: all or nothing)."""
        staged = self.root / INCOMING / state.clip
        write_atomically(staged / STATE_FILE, json.dumps(state.to_json()))
        final = self.folder(state.clip)
        os.replace(staged, final)
        return final

    def load(self, clip: str) -> ClipState:
        """The saved state of a clip."""
        return ClipState.from_json(json.loads((self.folder(clip) / STATE_FILE).read_text(encoding="utf-8")))

    def save(self, state: ClipState) -> None:
        """Persist a clip's state atomically."""
        write_atomically(self.folder(state.clip) / STATE_FILE, json.dumps(state.to_json()))

    def finish(self, state: ClipState) -> None:
        """A clip needs nothing more: delete its folder (or keep it, marked finished, with `keep_done`)."""
        if self.keep_done:
            self.save(state)
        else:
            shutil.rmtree(self.folder(state.clip), ignore_errors=True)

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
