"""Which clips go to S3: every clip (`all`), or only those that belong to a visit (`visits`, the default).

Most of a doorway's day is an empty doorway: uploading each of its half-second clips costs a request for an upload
URL and an S3 PUT apiece (most of what a device-day costs, scripts/bench/cost.py). With `visits`, a clip is
uploaded when it could show someone: the answer had a face, a visit was open around its recording time (the
visit's own clips, and the clips up to the tracker's `end_after_s` after its last face), an alert links to it, or
it was never looked at (stale, refused, recovered: nobody knows it is empty). A clip that was answered "no face"
or skipped as still, outside any visit, is kept on the device instead (the spool's `.kept/` area, a rolling
budget, pi_app.recording.spool). The `margin_s` before a visit's first clip is uploaded too: those clips may
already have been kept when the visit began, so the worker brings them back from `.kept/`. Under `visits` a
visit's clips go up together, in one bundle once the visit has ended (pi_app.runtime.visit_bundler): one upload URL
and one PUT a visit instead of one a clip; a clip an alert links to goes alone at once.
Recognition is the same under both policies: only where the footage ends up differs.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from facegate_contract import bundle_key
from pi_app.recording.clip_state import NO_FACE, SKIPPED_STILL, ClipState

UploadMode = Literal["all", "visits"]
UPLOAD_MODES: tuple[UploadMode, ...] = ("all", "visits")
# Answers that say the clip's frame is empty: only those may stay on the device (a `tracked` clip shows a visit's
# face: it is uploaded like the answered clips of its visit).
_EMPTY = (NO_FACE, SKIPPED_STILL)


@dataclass(frozen=True)
class UploadPolicy:
    """What the worker uploads (`mode`) and how much of the doorway before a visit goes with it (`margin_s`)."""

    mode: UploadMode = "visits"
    margin_s: float = 1.0  # two half-second clips before a visit's first face

    def __post_init__(self) -> None:
        if self.mode not in UPLOAD_MODES:
            raise ValueError(f"upload mode is one of {', '.join(UPLOAD_MODES)}, not {self.mode!r}")
        if self.margin_s < 0:
            raise ValueError("the upload margin is a duration: 0 or more seconds")

    def bundle_of(self, device_id: str) -> Callable[[str], str | None]:
        """The key of a visit's bundle by visit id, for the visit reports: a bundle under `visits`, none under
        `all` (every clip alone)."""
        if self.mode != "visits":
            return lambda visit_id: None
        return lambda visit_id: bundle_key(device_id, visit_id)


def wants_upload(state: ClipState, policy: UploadPolicy, *, in_visit: bool, alerted: bool) -> bool:
    """True when the clip goes to S3 now; False when it stays on the device (`visits`, an empty doorway)."""
    if policy.mode == "all" or in_visit or alerted:
        return True
    return state.recognition.status not in _EMPTY
