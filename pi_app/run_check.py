"""Score a device run against a video manifest: did each clip's recognition say who was on screen?"""
from __future__ import annotations

from dataclasses import dataclass, field

from pi_app.events import Event
from pi_app.video_manifest import VideoManifest


@dataclass(frozen=True)
class ClipCheck:
    clip: str
    offset_s: float
    expected: tuple[str, ...] | None  # None: the clip spans a change of scene (not scored)
    got: tuple[str, ...] | None  # None: no recognition answer for this clip
    status: str

    @property
    def ok(self) -> bool:
        return self.expected is None or self.got == self.expected


@dataclass
class RunCheck:
    clips: list[ClipCheck] = field(default_factory=list)
    uploaded: set[str] = field(default_factory=set)

    @property
    def mismatches(self) -> list[ClipCheck]:
        return [c for c in self.clips if not c.ok]

    @property
    def not_uploaded(self) -> list[str]:
        return [c.clip for c in self.clips if c.clip not in self.uploaded]

    @property
    def passed(self) -> bool:
        return bool(self.clips) and not self.mismatches and not self.not_uploaded


def check_run(events: list[Event], manifest: VideoManifest, clip_seconds: float) -> RunCheck:
    """Pair every recorded clip with its final recognition and upload events; compare names, sorted."""
    recognitions = {e["clip"]: e for e in events if e.get("event") == "recognition"}
    result = RunCheck(uploaded={e["clip"] for e in events if e.get("event") == "upload"})
    for recorded in (e for e in events if e.get("event") == "clip_recorded"):
        offset = float(recorded.get("stream_offset_s", 0.0))
        if offset >= manifest.duration_s - 1e-6:
            continue  # a looped replay's next pass: not in the manifest
        answer = recognitions.get(recorded["clip"])
        got = tuple(sorted(answer.get("names") or [])) if answer else None
        result.clips.append(ClipCheck(recorded["clip"], offset, manifest.people_at(offset, clip_seconds), got,
                                      answer.get("status", "?") if answer else "missing"))
    return result
