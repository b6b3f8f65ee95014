"""Counters, latency percentiles and what the terminal shows."""
from __future__ import annotations

import io

from rich.console import Console

from msgspec.structs import replace

from facegate_contract.device_events import (AuthFailed, ClipRecognition, ClipRecorded, ClipsResumed, ClipUploaded,
                                             RecordingPaused, RecordingResumed, StageFailed, Throttled)
from pi_app.runtime.events import EventBus, EventLog, read_events
from pi_app.runtime.stats import Stats, percentile
from pi_app.runtime.views import LiveView, PlainView, summary_line
from tests.unit.pi_support import FakeClock


def _recognition(clip: str, status: str, latency: float | None = 100.0,
                 names: list[str] | None = None) -> ClipRecognition:
    return ClipRecognition(clip=clip, status=status, names=names or [], confidence=0.9, latency_ms=latency)


def _feed(*sinks) -> EventBus:
    bus = EventBus(sinks, FakeClock())
    bus.emit(ClipsResumed(clips=2))
    for n in range(3):
        bus.emit(ClipRecorded(clip=f"c{n}"))
    bus.emit(_recognition("c0", "recognised", 100.0, ["Eileen_Collins"]))
    bus.emit(_recognition("c1", "unknown", 300.0, ["unknown"]))
    bus.emit(_recognition("c2", "no_face", 200.0))
    bus.emit(_recognition("r0", "skipped_stale", None))
    bus.emit(_recognition("r1", "refused", None))
    bus.emit(StageFailed(clip="c1", stage="upload", attempt=1, error="x", retry_in_s=1.0))
    for clip in ("c0", "c2", "r0"):
        bus.emit(ClipUploaded(clip=clip, key=f"clips/{clip}.mp4"))
    return bus


def test_counters_follow_the_events() -> None:
    stats = Stats()
    _feed(stats)

    counts = stats.counters()
    assert {k: counts[k] for k in ("recorded", "resumed", "recognised", "unknown", "no_face", "skipped_stale",
                                   "refused", "failures", "uploaded", "pending_uploads")} == {
        "recorded": 3, "resumed": 2, "recognised": 1, "unknown": 1, "no_face": 1, "skipped_stale": 1, "refused": 1,
        "failures": 2, "uploaded": 3, "pending_uploads": 2}
    assert stats.summary()["latency_ms"] == {"p50": 200.0, "p95": 290.0, "n": 3}  # answered recognitions only


def test_percentiles() -> None:
    assert percentile([], 50) is None
    assert percentile([10.0], 95) == 10.0
    assert percentile(list(map(float, range(1, 101))), 50) == 50.5


def test_the_event_log_is_one_json_object_per_line_with_a_utc_timestamp(tmp_path) -> None:
    log = EventLog(tmp_path / "events.jsonl")
    _feed(log)
    log.close()

    events = read_events(tmp_path / "events.jsonl")
    assert len(events) == 13  # 1 resumed, 3 recorded, 5 recognitions, 1 failure, 3 uploads
    assert all(e.ts.endswith("Z") for e in events)
    assert events[4] == replace(_recognition("c0", "recognised", 100.0, ["Eileen_Collins"]), ts=events[4].ts)


def test_plain_view_prints_a_line_per_recognition_upload_and_failure() -> None:
    out = io.StringIO()
    _feed(PlainView(out))

    lines = out.getvalue().splitlines()
    assert len(lines) == 1 + 5 + 1 + 3  # resumed, recognitions, failure, uploads
    assert "c0 recognised Eileen_Collins confidence=0.90 latency_ms=100" in lines[1]
    assert "upload failed (attempt 1), retry in 1.0 s" in lines[6]


def test_live_view_shows_recent_recognitions_and_counters() -> None:
    stats = Stats()
    _feed(stats)
    console = Console(file=io.StringIO(), width=160, record=True)
    console.print(LiveView(stats, "door-1", console=console).render())

    text = console.export_text()
    assert "Eileen_Collins" in text and "skipped stale" in text and "no face" in text
    assert "pending uploads: 2" in text and "clips recorded: 3" in text


def test_summary_line() -> None:
    line = summary_line({"clips": 6, "recognised": 5, "failures": 0, "latency_ms": {"p50": 140.0, "p95": 180.0}})

    assert line == "summary: clips=6 recognised=5 failures=0 latency_p50_ms=140.0 latency_p95_ms=180.0"


PAUSED = RecordingPaused(ts="2026-11-23T23:11:58.500Z", reason="disk_low", spool_bytes=3 * 1024**3,
                         spool_max_bytes=2 * 1024**3, free_bytes=150 * 1024**2, min_free_bytes=200 * 1024**2)
AUTH = AuthFailed(ts="2026-11-23T23:12:00.000Z", clip="c9", stage="recognize", status=401, attempt=1, error="x",
                  retry_in_s=60.0)


def test_live_view_shows_what_holds_the_device_back_until_it_clears() -> None:
    stats = Stats()
    for event in (PAUSED, AUTH):
        stats.handle(event)
    console = Console(file=io.StringIO(), width=200, record=True)
    view = LiveView(stats, "door-1", console=console)

    console.print(view.render())
    text = console.export_text()
    assert "recording PAUSED (disk_low): spool 3.00 GB of 2.00 GB, 150 MB free (floor 200 MB)" in text
    assert "recognize: credentials rejected (HTTP 401), clips kept; retry in 60.0 s" in text
    assert "auth rejected: 1" in text

    stats.handle(RecordingResumed(paused_s=12.0, frames_dropped=240))
    console.print(view.render())
    assert "PAUSED" not in console.export_text()


def test_plain_view_prints_the_notices() -> None:
    out = io.StringIO()
    view = PlainView(out)
    for event in (PAUSED, AUTH, Throttled(clip="c", stage="upload", status=429, retry_in_s=3.0),
                  RecordingResumed(paused_s=12.0, frames_dropped=240)):
        view.handle(event)

    lines = out.getvalue().splitlines()
    assert lines[0] == ("23:11:58.500 recording PAUSED (disk_low): spool 3.00 GB of 2.00 GB, 150 MB free "
                        "(floor 200 MB); recorded clips keep draining")
    assert "recognize: credentials rejected (HTTP 401)" in lines[1] and "upload: throttled (HTTP 429)" in lines[2]
    assert "recording resumed after 12.0 s paused; 240 frame(s) were not recorded" in lines[3]


def test_the_summary_names_each_failing_sink_and_the_frames_not_recorded() -> None:
    summary = {"clips": 6, "frames_dropped_paused": 40, "sink_errors": {"EventLog": 12},
               "latency_ms": {"p50": 140.0, "p95": 180.0}}
    console = Console(file=io.StringIO(), width=120, record=True)

    LiveView(Stats(), "door-1", console=console).show_summary(summary)

    assert summary_line(summary) == ("summary: clips=6 frames_dropped_paused=40 latency_p50_ms=140.0 "
                                     "latency_p95_ms=180.0 sink_errors=EventLog:12")
    text = console.export_text()
    assert "frames dropped paused" in text and "event sink errors: EventLog" in text and "12" in text
