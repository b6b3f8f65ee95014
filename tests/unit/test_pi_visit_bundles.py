"""Visit bundles: under the `visits` policy a visit's clips (the margin before it and its tail included) wait in the
spool and go to S3 as one uncompressed ZIP once the visit has ended; an alert's clip goes alone at once."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from facegate_contract import bundle_key
from facegate_contract.device_events import BundleUploaded, ClipUploaded, DeviceEvent, StageFailed, VisitEnded, events_of
from pi_app.recording.clip_state import ALONE, AWAITING_BUNDLE, BUNDLED, PENDING, ClipState
from pi_app.recording.spool import CLIP_FILE, Spool
from pi_app.recording.upload_policy import UploadPolicy
from pi_app.recording.visit_bundles import BundleStore
from pi_app.runtime.clip_worker import ClipWorker
from pi_app.runtime.stats import Stats
from pi_app.runtime.visit_bundler import WAIT_FOR_CLIPS_S, VisitBundler, bundle_item, is_bundle_item
from pi_app.transport.retry_gate import RetryGate
from pi_app.transport.backoff import Backoff
from pi_app.recording.clip_names import clip_id
from tests.unit.pi_support import FakeClock, FakeRecognizer, FakeUploader, add_clip

T0 = 1_790_000_000.0
VISIT = "20260922T141604.500Z-1a2b3c4d"
DEVICE = "dev-1"
FACES = (9, 10)  # clips with the face: recorded at T0 + 4.5 and T0 + 5.0
END_AFTER_S = 2.0


def at(seq: int) -> float:
    """When clip `seq` ends recording (add_clip: 0.5 s clips, the first ending at T0)."""
    return T0 + 0.5 * seq


class Door:
    """A worker and a bundler under the `visits` policy; a visit is open from clip 9 to 2 s after clip 10."""

    def __init__(self, root: Path, alerted: frozenset[str] = frozenset(), clock: FakeClock | None = None) -> None:
        self.root = root
        self.clock = clock or FakeClock(T0 + 10)
        self.spool = Spool(root)
        self.recognizer, self.uploader = FakeRecognizer(faces=[]), FakeUploader()
        self.events: list[DeviceEvent] = []
        self.queued: list[tuple[str, float | None]] = []
        self.visit_open = True
        self.worker = ClipWorker(self.spool, self.recognizer, self.uploader, self.events.append, clock=self.clock,
                                 upload_policy=UploadPolicy(mode="visits", margin_s=1.0),
                                 upload_gate=RetryGate(Backoff(base_s=1.0, jitter=0.0), self.clock),
                                 visit_open=lambda t: self.visit_open and at(FACES[0]) <= t <= at(FACES[-1]) + END_AFTER_S,
                                 alerted=alerted.__contains__)
        self.bundler = VisitBundler(self.spool, self.worker, self.events.append, device_id=DEVICE, clip_s=0.5,
                                    margin_s=1.0, end_after_s=END_AFTER_S, clock=self.clock,
                                    enqueue=lambda item, due: self.queued.append((item, due)))
        self.worker.bundle_accepts = self.bundler.accepts

    def clip(self, seq: int, face: bool = False, **changes: object) -> ClipState:
        """Record clip `seq` and work on it at once."""
        state = add_clip(self.spool, seq, at(seq), device_id=DEVICE, **changes)
        self.recognizer.faces = None if face else []
        assert self.worker.process(state.clip) is None
        return state

    def visit(self) -> dict[int, ClipState]:
        """An empty doorway (0, 5..8), the face (9, 10), its tail (11..14), the doorway empty again (16, 17)."""
        clips = {seq: self.clip(seq) for seq in (0, 5, 6, 7, 8)}
        clips.update({seq: self.clip(seq, face=True) for seq in FACES})
        clips.update({seq: self.clip(seq) for seq in (11, 12, 13, 14)})
        self.visit_open = False  # the visit has ended: later clips are an empty doorway again
        clips.update({seq: self.clip(seq) for seq in (16, 17)})
        return clips

    def end_visit(self, visit_id: str = VISIT, faces: tuple[int, ...] = FACES) -> None:
        clips = [clip_id(at(seq), seq) for seq in faces]  # add_clip's ids
        self.bundler.handle(VisitEnded(visit_id=visit_id, first_at=at(faces[0]), last_at=at(faces[-1]), clips=clips,
                                       ended=True))

    def status(self, state: ClipState) -> str:
        return self.spool.load(state.clip).upload.status


def members(uploader: FakeUploader) -> dict[str, bytes]:
    body, _ = uploader.objects[bundle_key(DEVICE, VISIT)]
    with zipfile.ZipFile(io.BytesIO(body)) as bundle:
        assert all(info.compress_type == zipfile.ZIP_STORED for info in bundle.infolist())
        return {info.filename: bundle.read(info) for info in bundle.infolist()}


def test_a_visits_clips_wait_then_go_up_as_one_zip_of_exactly_them(tmp_path: Path) -> None:
    door = Door(tmp_path)
    clips = door.visit()
    assert door.uploader.objects == {}  # nothing alone: the face's clips and the tail wait
    assert {door.status(clips[s]) for s in (9, 10, 11, 12, 13, 14)} == {AWAITING_BUNDLE}

    door.end_visit()
    (item, _), = door.queued
    assert is_bundle_item(item) and door.bundler.process(item) is None

    visit_clips = [clips[s] for s in (7, 8, 9, 10, 11, 12, 13, 14)]  # margin 1 s before, tail 2 s after
    assert set(door.uploader.objects) == {bundle_key(DEVICE, VISIT)}
    assert door.uploader.attempts == 1  # one upload (one URL request, one PUT) for eight clips
    assert members(door.uploader) == {f"{s.clip}.mp4": b"mp4 " + s.clip.encode() for s in visit_clips}
    (event,) = events_of(door.events, BundleUploaded)
    assert (event.key, event.clips, event.keys) == (bundle_key(DEVICE, VISIT), [s.clip for s in visit_clips],
                                                    [s.key for s in visit_clips])
    assert events_of(door.events, ClipUploaded) == []
    assert door.spool.clips() == [] and door.spool.kept_clips() == [clips[s].clip for s in (0, 5, 6, 16, 17)]


def test_a_member_carries_its_clips_metadata_for_the_console(tmp_path: Path) -> None:
    door = Door(tmp_path)
    door.visit()
    door.end_visit()
    door.bundler.process(bundle_item(VISIT))
    body, metadata = door.uploader.objects[bundle_key(DEVICE, VISIT)]
    assert metadata == {"visit": VISIT, "clips": "8"}
    with zipfile.ZipFile(io.BytesIO(body)) as bundle:
        face = next(i for i in bundle.infolist() if json.loads(i.comment)["recognition"] == "recognised")
    assert json.loads(face.comment)["names"] == "Eileen_Collins" and json.loads(face.comment)["frame-index"] == "0"


def test_an_alerted_clip_goes_alone_at_once_and_not_in_the_bundle(tmp_path: Path) -> None:
    alerted = add_clip(Spool(tmp_path / "scratch"), 9, at(9), device_id=DEVICE).key
    door = Door(tmp_path / "door", alerted=frozenset({alerted}))
    clips = door.visit()
    assert set(door.uploader.objects) == {alerted}
    door.end_visit()
    door.bundler.process(bundle_item(VISIT))

    assert f"{clips[9].clip}.mp4" not in members(door.uploader)
    assert len(members(door.uploader)) == 7 and door.spool.clips() == []


def test_a_failed_bundle_upload_is_retried_and_no_clip_is_lost(tmp_path: Path) -> None:
    door = Door(tmp_path)
    clips = door.visit()
    door.end_visit()
    door.uploader.up = False
    retry_at = door.bundler.process(bundle_item(VISIT))

    assert retry_at is not None and retry_at > door.clock()
    (failure,) = events_of(door.events, StageFailed)
    assert (failure.stage, failure.clip) == ("bundle", VISIT)
    assert door.status(clips[9]) == AWAITING_BUNDLE and door.uploader.objects == {}
    door.clock.advance(retry_at - door.clock())
    door.uploader.up = True
    assert door.bundler.process(bundle_item(VISIT)) is None
    assert len(members(door.uploader)) == 8 and door.spool.clips() == []


def test_a_restart_before_the_upload_bundles_the_visit_again(tmp_path: Path) -> None:
    door = Door(tmp_path)
    door.visit()
    door.end_visit()  # the record is written... and the device loses power before the job runs

    again = Door(tmp_path)
    again.visit_open = False  # a new run's tracker: no visit open
    items = again.bundler.resume()
    assert items == [bundle_item(VISIT)]
    assert again.bundler.process(items[0]) is None
    assert len(members(again.uploader)) == 8 and again.spool.clips() == []


def test_a_restart_between_the_upload_and_the_clips_finishing_finishes_them_without_a_second_upload(
        tmp_path: Path) -> None:
    door = Door(tmp_path)
    clips = door.visit()
    door.end_visit()
    finish = door.spool.finish
    door.spool.finish = lambda state: (_ for _ in ()).throw(OSError("power cut"))  # type: ignore[method-assign]
    try:
        door.bundler.process(bundle_item(VISIT))
    except OSError:
        pass
    door.spool.finish = finish  # type: ignore[method-assign]
    assert door.status(clips[10]) == AWAITING_BUNDLE and door.uploader.attempts == 1

    again = Door(tmp_path)
    again.visit_open = False  # a new run's tracker: no visit open
    assert again.bundler.resume() == []
    assert again.spool.clips() == [] and again.uploader.attempts == 0


def test_clips_waiting_for_a_visit_that_never_ended_go_alone_after_a_restart(tmp_path: Path) -> None:
    door = Door(tmp_path)
    clips = door.visit()  # the visit never ends: a power cut took the tracker with it

    again = Door(tmp_path)
    again.visit_open = False  # a new run's tracker: no visit open
    assert again.bundler.resume() == []
    assert again.status(clips[9]) == ALONE
    for clip in again.spool.unfinished():
        assert again.worker.process(clip) is None
    assert set(again.uploader.objects) == {clips[s].key for s in (7, 8, 9, 10, 11, 12, 13, 14)}


def test_a_clip_still_in_recognition_holds_the_bundle_a_while_at_most(tmp_path: Path) -> None:
    door = Door(tmp_path)
    door.visit()
    late = add_clip(door.spool, 13, at(13) + 0.01, device_id=DEVICE)  # not answered yet (another seq)
    door.end_visit()
    assert door.bundler.process(bundle_item(VISIT)) is not None and door.uploader.objects == {}

    door.clock.advance(WAIT_FOR_CLIPS_S)
    assert door.bundler.process(bundle_item(VISIT)) is None
    assert f"{late.clip}.mp4" not in members(door.uploader)
    assert door.spool.load(late.clip).upload.status == PENDING


def test_a_late_clip_of_a_visit_already_bundled_goes_alone(tmp_path: Path) -> None:
    door = Door(tmp_path)
    door.visit()
    door.end_visit()
    door.bundler.process(bundle_item(VISIT))
    door.visit_open = True  # a late answer joins the ended visit
    late = door.clip(12, face=True, recognition__attempts=0)  # a clip id of its own: another seq
    assert late.key in door.uploader.objects  # alone: the bundle already up is never replaced by a smaller one
    door.end_visit()  # ended again: no second bundle
    assert door.queued[-1:] == door.queued[:1] and len(members(door.uploader)) == 8


def test_the_device_counts_bundled_clips_as_uploaded() -> None:
    stats = Stats()
    stats.handle(BundleUploaded(visit_id=VISIT, key=bundle_key(DEVICE, VISIT), clips=["a", "b", "c"]))
    counters = stats.counters()
    assert (counters["bundled"], counters["bundles"]) == (3, 1)


def test_a_bundle_record_that_cannot_be_read_is_no_bundle(tmp_path: Path) -> None:
    store = BundleStore(tmp_path)
    (store.root / f"{VISIT}.json").write_text("{not json")
    assert store.records() == [] and store.load(VISIT) is None


def test_a_bundled_clips_status_is_final(tmp_path: Path) -> None:
    door = Door(tmp_path)
    state = door.clip(9, face=True)
    state = door.spool.load(state.clip)
    assert not state.upload.final
    state.upload.status = BUNDLED
    assert state.upload.final and (door.spool.folder(state.clip) / CLIP_FILE).exists()


def test_tail_clips_kept_before_the_visit_ended_are_brought_back_into_its_bundle(tmp_path: Path) -> None:
    door = Door(tmp_path)
    for seq in (7, 8):
        door.clip(seq)
    clips = {seq: door.clip(seq, face=True) for seq in FACES}
    door.visit_open = False  # answered after the tracker let the visit go: kept on the device, as an empty doorway
    tail = {seq: door.clip(seq) for seq in (11, 12, 13, 14, 15)}
    assert door.spool.kept_clips() == [tail[s].clip for s in (11, 12, 13, 14, 15)]

    door.end_visit()
    assert door.bundler.process(bundle_item(VISIT)) is None

    in_bundle = {name[: -len(".mp4")] for name in members(door.uploader)}
    assert {clips[s].clip for s in FACES} | {tail[s].clip for s in (11, 12, 13, 14)} <= in_bundle
    assert tail[15].clip not in in_bundle  # past the tail: still an empty doorway on the device
    assert door.spool.kept_clips() == [tail[15].clip]


def test_a_visit_ending_leaves_the_clips_another_open_visit_reaches_to_that_visits_bundle(tmp_path: Path) -> None:
    door = Door(tmp_path)
    clips = door.visit()
    later = "20260922T141610.000Z-5e6f7a8b"
    door.worker.visit_open = lambda t: t >= at(12)  # a second visit (a split: someone else) still open from clip 12
    door.end_visit()
    door.bundler.process(bundle_item(VISIT))
    first = {name[: -len(".mp4")] for name in members(door.uploader)}
    assert first == {clips[s].clip for s in (7, 8, 9, 10, 11)}  # its faces are its own, the rest is the other's

    door.worker.visit_open = lambda t: False
    door.end_visit(later, faces=(12, 13))
    door.bundler.process(bundle_item(later))
    body, _ = door.uploader.objects[bundle_key(DEVICE, later)]
    with zipfile.ZipFile(io.BytesIO(body)) as bundle:
        assert {n[: -len(".mp4")] for n in bundle.namelist()} == {clips[s].clip for s in (12, 13, 14, 16, 17)}
    assert door.spool.clips() == []  # every clip in exactly one bundle


def test_at_exit_the_bundles_of_the_visits_shutdown_ended_go_or_stay_for_the_next_start(tmp_path: Path) -> None:
    door = Door(tmp_path)
    door.visit()
    door.end_visit()
    door.uploader.up = False
    assert door.bundler.drain(0.3) is False  # S3 unreachable: left for the next start, every clip still here
    assert door.spool.load(door.spool.clips()[0]).upload.status == AWAITING_BUNDLE
    door.uploader.up = True
    door.clock.advance(3600)  # past the upload gate's backoff
    assert door.bundler.drain(5.0) is True
    assert len(members(door.uploader)) == 8 and door.spool.clips() == []


def test_a_clip_the_visit_reached_before_its_first_face_waits_for_it_and_goes_in(tmp_path: Path) -> None:
    door = Door(tmp_path)
    reaches = lambda t: at(FACES[0]) - END_AFTER_S <= t <= at(FACES[-1]) + END_AFTER_S  # noqa: E731 - the tracker's
    door.worker.visit_open = reaches
    early = door.clip(6)  # answered after the visit began (out of order): 1.5 s before its first face, so it waits
    assert door.status(early) == AWAITING_BUNDLE
    for seq in FACES:
        door.clip(seq, face=True)
    door.worker.visit_open = lambda t: False
    door.end_visit()
    assert door.bundler.process(bundle_item(VISIT)) is None
    assert f"{early.clip}.mp4" in members(door.uploader) and door.spool.clips() == []


def test_a_clip_left_waiting_for_no_bundle_goes_alone_once_a_bundle_is_done(tmp_path: Path) -> None:
    door = Door(tmp_path)
    door.visit()
    door.worker.visit_open = lambda t: True
    stray = door.clip(30, face=True)  # parked while a visit reached it...
    door.worker.visit_open = lambda t: False  # ...that then went without a bundle record for it
    assert door.status(stray) == AWAITING_BUNDLE
    door.end_visit()
    assert door.bundler.process(bundle_item(VISIT)) is None
    assert door.status(stray) == ALONE and (stray.clip, None) in door.queued
    assert door.worker.process(stray.clip) is None and stray.key in door.uploader.objects


def test_at_exit_a_clip_no_bundle_takes_is_uploaded_alone(tmp_path: Path) -> None:
    door = Door(tmp_path)
    door.worker.visit_open = lambda t: True
    stray = door.clip(30, face=True)
    door.worker.visit_open = lambda t: False
    assert door.bundler.drain(5.0) is True
    assert stray.key in door.uploader.objects and door.spool.clips() == []
