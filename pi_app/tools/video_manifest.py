"""Manifests of recorded test videos: who is on screen when, and (hard fixture) which visits should be decided
how: the camera shim's ground truth."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    people: tuple[str, ...]  # labels; "unknown" for a stranger; empty for no face
    note: str = ""


@dataclass(frozen=True)
class ExpectedVisit:
    """One person's visit in the video: when (video seconds), the decision expected (a label or "unknown"),
    and where their face ends up (x, pixels), which tells two people at once apart."""

    start: float
    end: float
    expected: str
    x: float | None = None
    note: str = ""


@dataclass(frozen=True)
class VideoManifest:
    video: Path
    fps: float
    width: int
    height: int
    segments: tuple[Segment, ...]
    visits: tuple[ExpectedVisit, ...] = ()

    @classmethod
    def read(cls, path: Path) -> "VideoManifest":
        """Load `<name>.json`; the video path is relative to the manifest."""
        data = json.loads(Path(path).read_text())
        segments = tuple(Segment(s["start"], s["end"], tuple(s["people"]), s.get("note", "")) for s in data["segments"])
        visits = tuple(ExpectedVisit(v["start"], v["end"], v["expected"], v.get("x"), v.get("note", ""))
                       for v in data.get("visits", []))
        return cls(Path(path).parent / data["video"], float(data["fps"]), int(data["width"]), int(data["height"]),
                   segments, visits)

    @property
    def duration_s(self) -> float:
        return self.segments[-1].end if self.segments else 0.0

    def people_at(self, start: float, length: float) -> tuple[str, ...] | None:
        """Who is on screen for the whole window [start, start + length), sorted; None if it spans a change."""
        inside = [s for s in self.segments if s.start < start + length - 1e-6 and s.end > start + 1e-6]
        if len({s.people for s in inside}) != 1:
            return None
        return tuple(sorted(inside[0].people))

    def empty_fraction(self) -> float:
        """The share of the video with nobody on screen."""
        empty = sum(s.end - s.start for s in self.segments if not s.people)
        return empty / self.duration_s if self.duration_s else 0.0

    def enrolled(self) -> set[str]:
        """Every named (not "unknown") person in the video."""
        return {p for s in self.segments for p in s.people if p != "unknown"}
