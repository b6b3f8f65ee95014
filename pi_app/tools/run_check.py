"""Score a device run against a video manifest: did each clip's recognition say who was on screen (check_run)?
Was each visit decided right, did the door open only for the visitor, one alert per stranger visit, and
how many clips of the empty stretches went to the API (check_visits)?"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from facegate_contract.device_events import (BundleUploaded, ClipKept, ClipRecognition, ClipRecorded, ClipUploaded,
                                             DeviceEvent, VisitAction, VisitEnded, events_of)
from pi_app.recording.clip_state import UNKNOWN_NAME
from pi_app.tools.video_manifest import ExpectedVisit, VideoManifest
from pi_app.visits.decision import UNDECIDED


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
    uploaded: set[str] = field(default_factory=set)  # in S3: alone, or in their visit's bundle
    kept: set[str] = field(default_factory=set)  # kept on the device (`kept`, the visits upload policy), not in S3

    @property
    def mismatches(self) -> list[ClipCheck]:
        return [c for c in self.clips if not c.ok]

    @property
    def not_stored(self) -> list[str]:
        """Clips neither in S3 nor kept on the device: lost."""
        return [c.clip for c in self.clips if c.clip not in self.uploaded and c.clip not in self.kept]

    @property
    def faces_not_uploaded(self) -> list[str]:
        """Clips with a face that are not in S3 (every such clip belongs to a visit, whatever the upload policy)."""
        return [c.clip for c in self.clips if c.got and c.clip not in self.uploaded]

    @property
    def passed(self) -> bool:
        return bool(self.clips) and not self.mismatches and not self.not_stored and not self.faces_not_uploaded


def check_run(events: Sequence[DeviceEvent], manifest: VideoManifest, clip_seconds: float) -> RunCheck:
    """Pair every recorded clip with its final recognition and upload events; compare names, sorted."""
    recognitions = {e.clip: e for e in events_of(events, ClipRecognition)}
    bundled = {clip for e in events_of(events, BundleUploaded) for clip in e.clips}
    result = RunCheck(uploaded={e.clip for e in events_of(events, ClipUploaded)} | bundled,
                      kept={e.clip for e in events_of(events, ClipKept)})
    for recorded in events_of(events, ClipRecorded):
        offset = recorded.stream_offset_s
        if offset >= manifest.duration_s - 1e-6:
            continue  # a looped replay's next pass: not in the manifest
        answer = recognitions.get(recorded.clip)
        got = tuple(sorted(answer.names)) if answer else None
        result.clips.append(ClipCheck(recorded.clip, offset, manifest.people_at(offset, clip_seconds), got,
                                      answer.status if answer else "missing"))
    return result


def clip_offsets(events: Sequence[DeviceEvent]) -> dict[str, float]:
    """Where each recorded clip starts in the camera's stream (seconds), by clip id."""
    return {e.clip: e.stream_offset_s for e in events_of(events, ClipRecorded)}


ANSWERED = ("recognised", "unknown", "no_face")  # clips that went to the API and got an answer
TRACKED = "tracked"  # not sent: the same face(s) as a decided visit's last answer (scored like an answer in check_run)


@dataclass(frozen=True)
class VisitCheck:
    """One expected visit against the device's visits that overlap it (same time, nearest face)."""

    expected: ExpectedVisit
    visit_ids: tuple[str, ...]
    decisions: tuple[str, ...]  # the final decision of each matched device visit
    door_for: tuple[str, ...]  # whom the door opened for in those visits
    alerts: int  # alerts sent for those visits

    @property
    def decided_right(self) -> bool:
        """Some device visit was decided, and every decided one says who it was."""
        decided = [d for d in self.decisions if d != UNDECIDED]
        return bool(decided) and all(d == self.expected.expected for d in decided)

    @property
    def door_right(self) -> bool:
        """The door opened for nobody but the visitor."""
        return all(name == self.expected.expected for name in self.door_for)

    @property
    def alerts_right(self) -> bool:
        """One alert per stranger visit, none for an enrolled visitor (with the example rules)."""
        return self.alerts == (1 if self.expected.expected == UNKNOWN_NAME else 0)


@dataclass
class VisitsCheck:
    visits: list[VisitCheck] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)  # device visits during no expected visit
    recognised_on_empty: int = 0  # clips of empty stretches sent to the API
    empty_clips: int = 0
    tracked: int = 0  # clips not sent: a decided visit's same face (pi_app.visits.tracking_skip)

    @property
    def passed(self) -> bool:
        return bool(self.visits) and all(v.decided_right and v.door_right and v.alerts_right for v in self.visits)


def check_visits(events: Sequence[DeviceEvent], manifest: VideoManifest, clip_seconds: float) -> VisitsCheck:
    """Pair the device's visits (`visit_ended`, `visit_action`) with the manifest's expected visits by video
    time and face position; count the empty-stretch clips that were sent for recognition."""
    offsets = clip_offsets(events)
    ended = [e for e in events_of(events, VisitEnded) if any(c in offsets for c in e.clips)]
    actions = events_of(events, VisitAction)
    spans = {e.visit_id: (min(offsets[c] for c in e.clips if c in offsets),
                          max(offsets[c] for c in e.clips if c in offsets) + clip_seconds) for e in ended}
    owner: dict[str, ExpectedVisit] = {}
    for event in ended:
        start, end = spans[event.visit_id]
        overlapping = [v for v in manifest.visits if v.start < end and v.end > start]
        if overlapping:
            x = _face_x(event)
            owner[event.visit_id] = min(overlapping, key=lambda v: abs((v.x or 0) - x) if x is not None else 0)
    result = VisitsCheck(unmatched=[e.visit_id for e in ended if e.visit_id not in owner])
    for expected in manifest.visits:
        mine = [e for e in ended if owner.get(e.visit_id) is expected]
        ids = {e.visit_id for e in mine}
        acted = [a for a in actions if a.visit_id in ids]
        result.visits.append(VisitCheck(expected, tuple(sorted(ids)), tuple(e.decision for e in mine),
                                        tuple(a.decision for a in acted if a.door),
                                        sum(1 for a in acted if a.alert_id)))
    answered = {e.clip for e in events_of(events, ClipRecognition) if e.status in ANSWERED}
    empty = [clip for clip, offset in offsets.items()
             if offset < manifest.duration_s - 1e-6 and manifest.people_at(offset, clip_seconds) == ()]
    result.empty_clips, result.recognised_on_empty = len(empty), sum(1 for clip in empty if clip in answered)
    result.tracked = sum(1 for e in events_of(events, ClipRecognition) if e.status == TRACKED)
    return result


def _face_x(visit_event: VisitEnded) -> float | None:
    """The centre x of the visit's last face box."""
    boxes = [v.box for v in visit_event.evidence if v.box]
    return (boxes[-1].x1 + boxes[-1].x2) / 2 if boxes else None


@dataclass(frozen=True)
class IdentityCheck:
    """MOT-style figures of a run's visits against the manifest's people: each face of each visit is matched to
    the person on screen then (nearest face position); a visit holding two people is a merge, a person in two
    visits a split, a change of visit along one person's faces an identity switch."""

    people: int  # expected visits (one person's continuous presence each)
    visits: int  # device visits that hold at least one matched face
    merges: int  # device visits holding faces of two or more people (each extra person counts)
    splits: int  # extra device visits a person was cut into
    switches: int  # times one person's faces moved to another visit, in recording order
    wrong: int  # people whose main visit was decided as someone else, or not decided
    decisions: tuple[tuple[str, str], ...]  # (expected, decided) per person, by start

    @property
    def visits_per_person(self) -> float:
        return round(self.visits / self.people, 3) if self.people else 0.0

    @property
    def passed(self) -> bool:
        return self.people > 0 and self.merges == self.splits == self.switches == self.wrong == 0

    def to_json(self) -> dict[str, object]:
        return {"people": self.people, "visits": self.visits, "visits_per_person": self.visits_per_person,
                "merges": self.merges, "splits": self.splits, "identity_switches": self.switches,
                "wrong_decisions": self.wrong, "decisions": [list(d) for d in self.decisions]}


def check_identity(events: Sequence[DeviceEvent], manifest: VideoManifest, clip_seconds: float) -> IdentityCheck:
    """Score the run's `visit_ended` events face by face against the manifest's visits."""
    offsets = clip_offsets(events)
    people = list(manifest.visits)
    faces: dict[int, list[tuple[float, str]]] = {i: [] for i in range(len(people))}  # person -> (offset, visit)
    held: dict[str, set[int]] = {}  # visit -> people
    decided: dict[str, str] = {}
    for ended in events_of(events, VisitEnded):
        decided[ended.visit_id] = ended.decision
        for vote in ended.evidence:
            if vote.clip is None or vote.clip not in offsets:
                continue
            middle = offsets[vote.clip] + clip_seconds / 2
            there = [i for i, p in enumerate(people) if p.start <= middle < p.end]
            if not there:
                continue  # a face where the manifest has nobody (a false detection): not a person's
            x = (vote.box.x1 + vote.box.x2) / 2 if vote.box else None
            person = min(there, key=lambda i: abs((people[i].x or 0) - x) if x is not None else 0)
            faces[person].append((middle, ended.visit_id))
            held.setdefault(ended.visit_id, set()).add(person)
    switches, splits, wrong, decisions = 0, 0, 0, []
    for i, visitor in enumerate(people):
        order = [visit for _, visit in sorted(faces[i])]
        switches += sum(1 for a, b in pairwise(order) if a != b)
        splits += max(0, len(set(order)) - 1)
        main = max(set(order), key=order.count) if order else None
        decision = decided.get(main, UNDECIDED) if main else "no visit"
        wrong += decision != visitor.expected
        decisions.append((visitor.expected, decision))
    merges = sum(len(ps) - 1 for ps in held.values())
    return IdentityCheck(len(people), len(held), merges, splits, switches, wrong, tuple(decisions))
