"""Visits over time: every clip's recognition goes in, visit changes (started, new evidence, decided, ended)
come out.

Answers may arrive out of order (two workers; newest clip first after an outage), so everything is
placed by the clip's recording time, and a visit ends only once every clip from `end_after_s` before
its first face to `end_after_s` after its last has been answered (clip sequence numbers tell which are
still missing): a slow answer still joins the visit it belongs to before the visit is reported ended. A
hole that stays open (a clip lost to a crash) stops holding a visit MISSING_CLIP_WAIT_S after the recordings
passed the visit's end, on the device's own clock (a fast replay's recording time runs ahead of its answers).
A face answered more than `end_after_s` away from an open visit at its place, with the clips between still
unanswered, is held until they are answered and placed: they may carry the same face, and starting a second
visit for it would let a few wrong answers decide that one.

Face descriptors (biometric, pi_app.visits.appearance) come beside the events, never in them: the worker hands a
clip's to `note_appearance` just before it emits the clip's `recognition` event, and they join that clip's votes
in memory. When a visit turns out to hold two people (grouping.split_point), it is split: the later part is a visit
of its own (STARTED, decided, ended and reported on its own), the earlier one is decided again on what is left.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace

from facegate_contract.device_events import ClipRecognition, ClipRecorded, DeviceEvent
from pi_app.recording.clip_names import clip_seq
from pi_app.recording.clip_state import NO_FACE, SKIPPED_STILL
from pi_app.runtime.stamped_ids import stamped_id
from pi_app.visits.decision import UNDECIDED, Decision
from pi_app.visits.evidence import Vote, clip_seen
from pi_app.visits.grouping import Visit, VisitConfig, assign, near_in_place, reaching, split_point

log = logging.getLogger(__name__)

STARTED, EVIDENCE, DECIDED, ENDED = "started", "evidence", "decided", "ended"
GAP, MISSING_CLIPS, SHUTDOWN = "gap", "missing_clips", "shutdown"  # why a visit ended
MISSING_CLIP_WAIT_S = 30.0  # the device's default stale_after_s: older clips come back unrecognised anyway
KEPT_ENDED = 32  # ended visits a late answer may still join
REMEMBERED_CLIPS = 10_000  # clip sequence numbers remembered for coverage and duplicates (~80 min)
NOTED_APPEARANCES = 64  # clips whose descriptors wait for their event (it follows at once; bounded all the same)


@dataclass(frozen=True)
class VisitView:
    """A visit as it stands after one change: safe to hand to other threads."""

    id: str
    votes: tuple[Vote, ...]  # the latest ones (pi_app.visits.grouping.MAX_VOTES)
    first_at: float
    last_at: float
    decision: Decision
    conflicts: tuple[str, ...]
    ended: bool
    end_reason: str
    dropped: int
    settled: bool = True  # every clip from the visit's first face to its last is answered: no hole can change it


@dataclass(frozen=True)
class VisitChange:
    """What happened to a visit: STARTED, EVIDENCE (a new clip, same decision), DECIDED (the decision or its
    conflict changed) or ENDED."""

    kind: str
    visit: VisitView
    previous: str = ""  # DECIDED: the decision before


def _view(visit: Visit, settled: bool = True) -> VisitView:
    return VisitView(visit.id, tuple(visit.votes), visit.first_at, visit.last_at, visit.decision,
                     tuple(sorted(visit.conflicts)), visit.ended, visit.end_reason, visit.dropped, settled)


class VisitTracker:
    """Groups clip answers into visits and decides each; thread-safe (`is_open` is asked from worker threads)."""

    def __init__(self, config: VisitConfig | None = None, new_id: Callable[[float], str] = stamped_id,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config or VisitConfig()
        self._new_id = new_id
        self._clock = clock
        self._waiting: dict[str, float] = {}  # visit id -> when (device clock) it started waiting for a missing clip
        self._visits: list[Visit] = []  # open ones and the latest ended ones, by start
        self._clips: OrderedDict[int | str, float] = OrderedDict()  # answered clips: seq (or id) -> recorded_at
        self._empty: OrderedDict[int, None] = OrderedDict()  # answered clips known to show nobody (no face, still)
        self._newest_at = float("-inf")
        self._run_start_seq: int | None = None  # the first clip recorded in this run (from `clip_recorded`)
        self._held: list[tuple[Vote, ...]] = []  # clips' faces waiting for the clips between them and a visit
        self._appearances: OrderedDict[str, tuple[bytes | None, ...]] = OrderedDict()  # clip -> descriptor per face
        self._lock = threading.Lock()

    def note_appearance(self, clip: str, descriptors: list[bytes | None]) -> None:
        """The face descriptors of `clip`'s answer, in the order of its faces (before its `recognition` event)."""
        with self._lock:
            self._appearances[clip] = tuple(descriptors)
            while len(self._appearances) > NOTED_APPEARANCES:
                self._appearances.popitem(last=False)

    def observe(self, event: DeviceEvent) -> list[VisitChange]:
        """Take one event (`recognition`; `clip_recorded` tells where this run's clips start); returns the
        visit changes it caused."""
        if isinstance(event, ClipRecorded):
            self._note_recorded(event.clip)
            return []
        if not isinstance(event, ClipRecognition):
            return []
        seen = clip_seen(event)
        if seen is None:
            return []
        with self._lock:
            ref: int | str = seen.seq if seen.seq >= 0 else seen.clip
            if ref in self._clips:
                return []  # the same answer twice (a resumed clip re-emitted): already counted
            unsettled = [v for v in self._visits if not v.ended and not self._settled(v)]
            self._clips[ref] = seen.at
            while len(self._clips) > REMEMBERED_CLIPS:
                self._clips.popitem(last=False)
            if seen.seq >= 0 and self._shows_nobody(event, seen.seq):
                self._empty[seen.seq] = None
                while len(self._empty) > REMEMBERED_CLIPS:
                    self._empty.popitem(last=False)
            self._newest_at = max(self._newest_at, seen.at)
            changes = self._place(self._with_appearance(seen.clip, seen.votes))
            changes += self._release_held()
            # A faceless answer that fills a visit's last hole changes no vote, but settles it: say so.
            changed = {c.visit.id for c in changes}
            changes += [VisitChange(EVIDENCE, self._view(v)) for v in unsettled
                        if v.id not in changed and self._settled(v)]
            ended = [self._end(visit, reason) for visit in self._visits if not visit.ended
                     if (reason := self._end_reason(visit))]
            changes += ended + (self._release_held() if ended else [])  # an ended visit holds no face back
            self._forget_old()
        return changes

    def end_all(self, reason: str = SHUTDOWN) -> list[VisitChange]:
        """End every open visit now (at shutdown: nothing more will be answered in this run)."""
        with self._lock:
            changes = []
            for votes in sorted(self._held, key=lambda held: held[0].at):  # no more answers will fill the holes
                changes += self._assign(votes)
            self._held.clear()
            return changes + [self._end(visit, reason) for visit in self._visits if not visit.ended]

    def is_open(self, at: float | None = None) -> bool:
        """True while some visit has not ended; with `at` (a clip's recording time), one that clip could be part of."""
        with self._lock:
            return any(not v.ended and (at is None or v.reaches(at, self.config.end_after_s)) for v in self._visits)

    def _shows_nobody(self, event: ClipRecognition, seq: int) -> bool:
        """A "no face" answer; or a clip skipped as still right after one that showed nobody (a still clip after a
        face, skipped before that face's answer came, starts no such chain)."""
        return event.status == NO_FACE or (event.status == SKIPPED_STILL and seq - 1 in self._empty)

    def empty_before(self, clip: str) -> bool:
        """True when the clip recorded just before `clip` was answered and showed nobody (no face, or nothing
        moved after such a clip); False when it had faces, is not answered yet or cannot be told."""
        try:
            seq = clip_seq(clip)
        except (IndexError, ValueError):
            return False
        with self._lock:
            return seq - 1 in self._empty

    def _with_appearance(self, clip: str, votes: tuple[Vote, ...]) -> tuple[Vote, ...]:
        descriptors = self._appearances.pop(clip, ())
        if len(descriptors) != len(votes):
            return votes  # not this answer's (a resumed clip's event, a newer answer): compare by name
        return tuple(replace(vote, descriptor=d) for vote, d in zip(votes, descriptors))

    def _place(self, votes: tuple[Vote, ...]) -> list[VisitChange]:
        """Add one clip's faces to their visits, or hold them while the clips between them and a visit are out."""
        if any(self._waits_for_hole(vote) for vote in votes):
            self._held.append(votes)
            return []
        return self._assign(votes)

    def _assign(self, votes: tuple[Vote, ...]) -> list[VisitChange]:
        return [change for vote, visit in assign(votes, self._visits, self.config) for change in self._add(vote, visit)]

    def _release_held(self) -> list[VisitChange]:
        """Place the held clips whose holes have filled (each placement may settle another), oldest first."""
        changes: list[VisitChange] = []
        progress = True
        while progress:
            progress = False
            for votes in sorted(self._held, key=lambda held: held[0].at):
                if not any(self._waits_for_hole(vote) for vote in votes):
                    self._held.remove(votes)
                    changes += self._assign(votes)
                    progress = True
        return changes

    def _waits_for_hole(self, vote: Vote) -> bool:
        """True when `vote` reaches no visit yet, but an open visit at its place might reach it once the clips
        between the two are answered and placed (a held clip is answered, but its faces are in no visit yet: it
        may be the face that bridges the two, so it is still a hole)."""
        if vote.seq < 0 or reaching(vote, self._visits, self.config):
            return False
        held = {held_vote.seq for votes in self._held for held_vote in votes}
        for visit in self._visits:
            if visit.ended or visit.first_seq < 0 or not near_in_place(visit, vote, self.config):
                continue
            lo, hi = (visit.last_seq, vote.seq) if vote.at > visit.last_at else (vote.seq, visit.first_seq)
            if any(seq not in self._clips or seq in held for seq in range(lo + 1, hi)):
                return True
        return False

    def _add(self, vote: Vote, visit: Visit | None) -> list[VisitChange]:
        policy = self.config.decision
        if visit is None:
            visit = Visit(self._new_id(vote.at))
            visit.add(vote, policy)
            return self._start(visit)
        before = visit.decision
        visit.add(vote, policy)
        index = split_point(visit, self.config) if not visit.ended else None
        if index is not None:
            return self._split(visit, index, before)
        return [self._changed(visit, before)]

    def _changed(self, visit: Visit, before: Decision) -> VisitChange:
        after = visit.decision
        if (after.name, after.conflict) == (before.name, before.conflict):
            return VisitChange(EVIDENCE, self._view(visit))
        log.log(logging.WARNING if after.conflict else logging.INFO, "visit decided",
                extra={"visit_id": visit.id, "decision": after.name, "previous": before.name,
                       "agreeing": after.agreeing, "share": round(after.share, 3), "conflict": list(after.conflict)})
        return VisitChange(DECIDED, self._view(visit), before.name)

    def _split(self, visit: Visit, index: int, before: Decision) -> list[VisitChange]:
        """Another person took `visit`'s place from vote `index` on: they get a visit of their own."""
        other = visit.split_off(index, self._new_id(visit.votes[index].at), self.config.decision)
        log.info("visit split", extra={"visit_id": visit.id, "new_visit_id": other.id, "clips_kept": len(visit.votes),
                                       "clips_moved": len(other.votes), "decision": visit.decision.name})
        return [self._changed(visit, before), *self._start(other)]

    def _start(self, visit: Visit) -> list[VisitChange]:
        """Keep a new visit (its first votes already in): STARTED, and DECIDED when they decide it."""
        self._visits.append(visit)
        self._visits.sort(key=lambda v: v.first_at)
        first = visit.votes[0]
        log.info("visit started", extra={"visit_id": visit.id, "clip": first.clip, "label": first.name})
        started = VisitChange(STARTED, self._view(visit))
        return [started] + ([VisitChange(DECIDED, started.visit, UNDECIDED)] if visit.decision.decided else [])

    def _settled(self, visit: Visit) -> bool:
        """True when no unanswered clip could still change the visit so far: every clip between its first and
        last face is answered, and so are those just before it (back to `end_after_s` before its first face)."""
        if visit.first_seq < 0 or visit.last_seq < 0:
            return True  # clips without sequence numbers: nothing tells what is missing
        return (all(seq in self._clips for seq in range(visit.first_seq, visit.last_seq + 1))
                and self._answered(visit.first_seq, -1, lambda at: at <= visit.first_at - self.config.end_after_s))

    def _view(self, visit: Visit) -> VisitView:
        return _view(visit, self._settled(visit))

    def _end_reason(self, visit: Visit) -> str:
        """GAP once every clip within `end_after_s` around the visit is answered and one after it is faceless
        (it would have joined otherwise); "" while not yet."""
        gap = self.config.end_after_s
        deadline = visit.last_at + gap
        if visit.first_seq < 0:
            if self._newest_at >= deadline:
                return GAP  # clips without sequence numbers: nothing tells what is missing
        elif (self._answered(visit.first_seq, +1, lambda at: at >= deadline)
              and self._answered(visit.first_seq, -1, lambda at: at <= visit.first_at - gap)):
            return GAP
        if self._newest_at < deadline:
            return ""  # the recordings have not passed the visit's end yet
        since = self._waiting.setdefault(visit.id, self._clock())
        return MISSING_CLIPS if self._clock() - since >= MISSING_CLIP_WAIT_S else ""

    def _answered(self, seq: int, step: int, far_enough: Callable[[float], bool]) -> bool:
        """True when every clip from `seq` on (in the direction of `step`) is answered up to one `far_enough`,
        or back to the first clip of the run."""
        first = self._run_start_seq if self._run_start_seq is not None else 0
        while True:
            seq += step
            if seq < first:
                return True  # before this run: those clips are from before the device started
            if seq not in self._clips:
                return False
            if far_enough(self._clips[seq]):
                return True

    def _note_recorded(self, clip: str) -> None:
        try:
            seq = clip_seq(clip)
        except (IndexError, ValueError):
            return
        with self._lock:
            self._run_start_seq = seq if self._run_start_seq is None else min(self._run_start_seq, seq)

    def _end(self, visit: Visit, reason: str) -> VisitChange:
        visit.ended, visit.end_reason = True, reason
        self._waiting.pop(visit.id, None)
        log.info("visit ended", extra={"visit_id": visit.id, "decision": visit.decision.name, "reason": reason,
                                       "clips": len(visit.votes), "conflicts": sorted(visit.conflicts)})
        return VisitChange(ENDED, self._view(visit))

    def _forget_old(self) -> None:
        ended = [v for v in self._visits if v.ended]
        for visit in ended[:-KEPT_ENDED]:
            self._visits.remove(visit)
