"""The device app: camera → clips in the spool → workers (recognise, upload) → events, view and summary.

Drive it from code (tests, other tools) with any camera, recogniser and uploader:

    summary = DeviceApp(DeviceConfig(device_id="door-1", spool_dir=Path("spool")), camera, client, uploader).run()
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from facegate_contract import parse_clip_key
from facegate_contract.device_events import ClipRecorded, ClipsResumed, DeviceEvent, RunSummary
from facegate_contract.wire import convert
from pi_app.transport.backoff import Backoff
from pi_app.camera.base import Camera
from pi_app.recording.clip_encoder import available_fourcc
from pi_app.recording.clip_recorder import ClipRecorder
from pi_app.recording.clip_state import ClipState
from pi_app.runtime.clip_worker import DEFAULT_AUTH_BACKOFF, ClipUploader, ClipWorker, Recognizer
from pi_app.runtime.event_relay import EventRelay
from pi_app.runtime.events import EventBus, EventLog, EventSink
from pi_app.recording.image_encoding import DEFAULT_MAX_SIDE
from pi_app.recording.motion_gate import MotionPolicy
from pi_app.transport.retry_gate import RetryGate
from pi_app.runtime.shutdown import stop_on_signals
from pi_app.recording.spool import DEFAULT_KEEP_MAX_BYTES, Spool
from pi_app.recording.upload_policy import UploadPolicy
from pi_app.recording.spool_budget import RecordingGuard, SpaceProbe, SpoolLimits, SpoolSpace
from pi_app.runtime.stats import Stats
from pi_app.runtime.views import View
from pi_app.runtime.visit_bundler import VisitBundler, is_bundle_item
from pi_app.visits.grouping import VisitConfig
from pi_app.visits.tracker import VisitTracker, VisitView
from pi_app.visits.tracking_skip import TrackingPolicy, TrackingSkip
from pi_app.visits.visit_sink import VisitSink
from pi_app.runtime.work_queue import WorkQueue
from pi_app.runtime.worker_pool import WorkerPool

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeviceConfig:
    """How the device records and works; every field has a sensible default but the device id and spool."""

    device_id: str
    spool_dir: Path
    events_path: Path | None = None  # JSONL event log; None = no file
    clip_seconds: float = 0.5
    workers: int = 2
    stale_after_s: float = 30.0  # older clips are uploaded without recognition (skipped_stale)
    duration_s: float | None = None  # stop after this much camera time; None = until the camera ends or a signal
    drain_timeout_s: float = 10.0  # at exit, wait this long for pending work; the rest stays in the spool
    max_side: int = DEFAULT_MAX_SIDE  # of the JPEG sent for recognition
    fourcc: str | None = None  # None = probe (H.264 if available, else mp4v)
    keep_done: bool = False  # keep finished clip folders in the spool
    recognize_backoff: Backoff = field(default_factory=Backoff)
    upload_backoff: Backoff = field(default_factory=Backoff)
    auth_backoff: Backoff = DEFAULT_AUTH_BACKOFF  # after 401/403: long, the key will not fix itself
    spool_limits: SpoolLimits = field(default_factory=SpoolLimits)  # recording pauses beyond them
    motion: MotionPolicy = field(default_factory=MotionPolicy)  # skip recognising clips where nothing moves
    upload: UploadPolicy = field(default_factory=UploadPolicy)  # which clips go to S3 (default: a visit's)
    kept_max_bytes: int = DEFAULT_KEEP_MAX_BYTES  # the rolling budget of clips kept on the device instead
    visits: VisitConfig = field(default_factory=VisitConfig)  # how clips make visits (with --actions: the TOML's)
    stream_clock: bool = False  # stamp clips with the camera's time (a video replayed faster than real time)
    tracking: TrackingPolicy = field(default_factory=TrackingPolicy)  # no request for a decided visit's same face


class VisitFeeder(Protocol):
    """The one event sink that feeds the device's visit tracker (a VisitSink, or the actions' sink)."""

    visits: VisitTracker

    def handle(self, event: DeviceEvent) -> None: ...
    def close(self) -> None: ...
    def done_with(self, visit: VisitView) -> bool: ...


class DeviceApp:
    """Runs the device until the camera ends, `duration_s` passes, or `stop()` / Ctrl-C / SIGTERM.

    On start every unfinished clip in the spool is resumed; at exit work still pending after
    `drain_timeout_s` stays in the spool for the next start. Recording pauses while the spool is over its
    disk budget (pi_app.recording.spool_budget). `run()` returns the summary; run it once per instance (the camera is
    closed at the end). `space_probe` replaces the real disk measurements (tests).
    """

    def __init__(self, config: DeviceConfig, camera: Camera, recognizer: Recognizer, uploader: ClipUploader, *,
                 view: View | None = None, stats: Stats | None = None, sinks: Iterable[EventSink] = (),
                 clock: Callable[[], float] = time.time, space_probe: SpaceProbe | None = None,
                 visit_feeder: VisitFeeder | None = None, relay: EventRelay | None = None,
                 alerted: Callable[[str], bool] = lambda key: False) -> None:
        """`visit_feeder`: the sink that feeds the visit tracker when something else owns it (the actions, made
        with `publish=relay.put` of the `relay` passed here); by default the app keeps visits itself.
        `alerted(key)`: an alert links to that clip (the actions' sink): it is uploaded whatever the policy."""
        self.config = config
        self.camera = camera
        self.view = view
        self.clock = clock
        self.stats = stats or Stats()  # pass the one a LiveView draws from
        self.spool = Spool(config.spool_dir, keep_done=config.keep_done, device_id=config.device_id,
                           keep_max_bytes=config.kept_max_bytes)
        self.queue = WorkQueue(clock)
        self.bus = EventBus([self.stats, *([view] if view else []), *sinks], clock)
        # Visit events are made inside a sink (under the bus lock): the relay emits them from its own thread.
        self.relay = relay or EventRelay()
        self.relay.bind(self.bus.emit)
        self.visit_feeder = visit_feeder or VisitSink(VisitTracker(config.visits), publish=self.relay.put)
        self.bus.add(self.visit_feeder)
        visits = self.visit_feeder.visits
        self.tracking = TrackingSkip(config.tracking, visits.open_at, self.visit_feeder.done_with,
                                     visits.answered_between)
        self.worker = ClipWorker(self.spool, recognizer, uploader, self.bus.emit, stale_after_s=config.stale_after_s,
                                 clock=clock, recognize_gate=RetryGate(config.recognize_backoff, clock),
                                 upload_gate=RetryGate(config.upload_backoff, clock), auth_backoff=config.auth_backoff,
                                 motion=config.motion, visit_open=self.visit_feeder.visits.is_open,
                                 empty_before=self.visit_feeder.visits.empty_before,
                                 appearance=self.visit_feeder.visits.note_appearance,
                                 upload_policy=config.upload, alerted=alerted, requeue=self.queue.put,
                                 tracking=self.tracking if config.tracking.enabled else None)
        # The `visits` policy sends a visit's clips as one bundle once it ends (`all` sends every clip alone).
        self.bundler: VisitBundler | None = None
        if config.upload.mode == "visits":
            self.bundler = VisitBundler(self.spool, self.worker, self.bus.emit, device_id=config.device_id,
                                        clip_s=config.clip_seconds, margin_s=config.upload.margin_s,
                                        end_after_s=config.visits.end_after_s, enqueue=self.queue.put, clock=clock)
            self.worker.bundle_accepts = self.bundler.accepts
            self.bus.add(self.bundler)
        self.guard = RecordingGuard(config.spool_limits, space_probe or SpoolSpace(self.spool), self.bus.emit)
        self._stopping = threading.Event()

    def stop(self) -> None:
        """Stop recording (thread-safe, also what Ctrl-C and SIGTERM do); `run()` then drains and returns."""
        self._stopping.set()
        self.camera.close()

    def run(self) -> dict[str, Any]:
        """Record and process until done; returns the summary (counters, latency p50/p95, what is left pending)."""
        started = time.monotonic()
        event_log = EventLog(self.config.events_path) if self.config.events_path else None
        if event_log:
            self.bus.add(event_log)
        try:
            return self._run(started)
        finally:
            if event_log:
                self.bus.remove(event_log)
                event_log.close()

    def _run(self, started: float) -> dict[str, Any]:
        self.spool.discard_incomplete()
        resumed = self.spool.unfinished()
        for item in resumed + (self.bundler.resume() if self.bundler else []):
            self.queue.put(item)
        fourcc = self.config.fourcc or available_fourcc()  # probed before any thread or view is running
        pool = WorkerPool(self.queue, self._process, threads=self.config.workers)
        log.info("device app starting", extra={"device_id": self.config.device_id, "spool": str(self.spool.root),
                                               "resumed": len(resumed), "workers": self.config.workers,
                                               "track_decided": self.config.tracking.enabled,
                                               "recheck_s": self.config.tracking.recheck_s})
        if resumed:
            self.bus.emit(ClipsResumed(clips=len(resumed)))
        if self.view:
            self.view.start()
        self.relay.start()
        pool.start()
        try:
            with stop_on_signals(self.stop):
                recorder = ClipRecorder(self.spool, self.config.device_id, self.camera.fps, self.config.clip_seconds,
                                        fourcc=fourcc, max_side=self.config.max_side, wall_clock=self.clock,
                                        on_clip=self._clip_recorded, stream_clock=self.config.stream_clock)
                self._record(recorder)
                drained = self._wait_for_drain()
        finally:
            pool.stop()  # workers finish the clip in hand; anything left is already in the spool
            self.camera.close()
            self.visit_feeder.close()  # the visits still open end now: their `visit_ended` events go out
            self.relay.close()
            if self.bundler:  # their bundles (and any left waiting) go now, else at the next start
                self.bundler.drain(self.config.drain_timeout_s)
            if self.view:
                self.view.stop()
        summary = self.stats.summary(pending=len(self.spool.unfinished()), drained=drained, fourcc=fourcc,
                                     device_id=self.config.device_id, seconds=round(time.monotonic() - started, 2),
                                     frames_dropped_paused=self.guard.frames_dropped,
                                     recording_paused=self.guard.paused_reason, sink_errors=self.bus.sink_errors())
        self.bus.emit(convert(summary, RunSummary))
        log.info("device app stopped", extra={"summary": summary})
        if self.view:
            self.view.show_summary(summary)
        return summary

    def upload_alone(self, key: str) -> None:
        """An alert (or a door request) links to clip `key`: if it waits for its visit's bundle, upload it alone now
        (listen with it to the actions' alerted clips: pi_app.actions.clip_uploads.ClipUploads.listen)."""
        parsed = parse_clip_key(key)
        if parsed is not None and self.worker.send_alone(parsed[1]):
            self.queue.put(parsed[1])

    def _process(self, item: str) -> float | None:
        """One work queue item: a visit's bundle job, or a clip."""
        if self.bundler is not None and is_bundle_item(item):
            return self.bundler.process(item)
        return self.worker.process(item)

    def _record(self, recorder: ClipRecorder) -> None:
        first_t: float | None = None
        try:
            for frame in self.camera.frames():
                if self._stopping.is_set():
                    break
                first_t = frame.t if first_t is None else first_t
                if self.config.duration_s is not None and frame.t - first_t >= self.config.duration_s:
                    break
                if self.guard.admit():
                    recorder.add(frame)
                else:
                    recorder.close()  # keep the clip in progress (once); later frames are dropped until space frees
        finally:
            recorder.close()  # the last, possibly shorter, clip is kept too

    def _wait_for_drain(self) -> bool:
        drained = self.queue.wait_idle(self.config.drain_timeout_s)
        if not drained:
            log.warning("drain timeout: pending work stays in the spool for the next start",
                        extra={"pending": self.queue.pending(), "drain_timeout_s": self.config.drain_timeout_s})
        return drained

    def _clip_recorded(self, state: ClipState) -> None:
        self.queue.put(state.clip)
        self.bus.emit(ClipRecorded(clip=state.clip, frames=state.frames, duration_s=state.duration_s,
                                   fourcc=state.fourcc, frame_index=state.frame_index,
                                   stream_offset_s=state.stream_offset_s))
