"""The hard doorway fixture's script (small, dim, tilted faces; short visits; strangers; two people at once;
mostly empty), a short render of it, its manifest's expected visits, and scoring a run's visits against it."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from facegate_contract import clip_key
from facegate_contract.device_events import ClipRecorded, DeviceEvent
from pi_app.recording.clip_names import clip_id
from pi_app.tools.run_check import check_visits
from pi_app.tools.video_manifest import VideoManifest
from tests.conftest import ROOT
from tests.unit.pi_actions_support import ActionsRig, eileen, recognition, stranger
from tests.unit.pi_support import face_frame

spec = importlib.util.spec_from_file_location("make_fixture_videos", ROOT / "scripts" / "make_fixture_videos.py")
fixtures = sys.modules.setdefault(spec.name, importlib.util.module_from_spec(spec))  # dataclasses look it up
spec.loader.exec_module(fixtures)  # type: ignore[union-attr]
SHOTS = fixtures.hard_shots(("Laura_Bush", "Vladimir_Putin"))


def test_the_hard_script_is_mostly_empty_with_short_visits_strangers_and_pairs() -> None:
    total = sum(s.seconds for s in SHOTS)
    empty = sum(s.seconds for s in SHOTS if not s.walkers)
    visits = [s for s in SHOTS if s.walkers]

    assert total <= 180 and empty / total >= 0.6
    assert all(2 <= s.seconds <= 6 for s in visits)
    assert all(float(s.seconds * 2).is_integer() for s in SHOTS)  # every 0.5 s clip shows one situation
    assert sum(len(s.walkers) == 2 for s in visits) >= 2
    labels = [w.label for s in visits for w in s.walkers]
    assert labels.count("unknown") == 3 and {"Laura_Bush", "Vladimir_Putin"} < set(labels)
    assert all(s.gain <= 0.65 for s in SHOTS)  # dim throughout


def test_every_face_is_45_to_70_px_tilted_and_moving() -> None:
    for shot in (s for s in SHOTS if s.walkers):
        for walker in shot.walkers:
            places = [walker.place(t / 20) for t in range(21)]
            assert all(45 <= px <= 70 for _, _, px, _ in places)
            assert all(0 < abs(angle) <= 12 for _, _, _, angle in places)
            assert abs(places[0][0] - places[-1][0]) >= 30  # steps in


def test_a_short_render_is_dim_and_degraded_and_its_manifest_lists_the_visits(tmp_path: Path) -> None:
    portrait = face_frame()[90:390, 170:470]
    shots = [fixtures.HardShot(1.0, [], 0.5, "empty"),
             fixtures.HardShot(2.0, [fixtures.Walker("p", "Eileen_Collins", 150, 200, 50, 60, 6),
                                     fixtures.Walker("s", "unknown", 500, 450, 48, 55, -5)], 0.5, "two")]
    manifest = fixtures.render_hard(shots, {"p": portrait, "s": portrait[::-1]}, tmp_path / "hard.mp4")
    (tmp_path / "hard.json").write_text(json.dumps(manifest))

    read = VideoManifest.read(tmp_path / "hard.json")
    assert [(v.start, v.end, v.expected, v.x) for v in read.visits] == [
        (1.0, 3.0, "Eileen_Collins", 200), (1.0, 3.0, "unknown", 450)]
    assert read.empty_fraction() == pytest.approx(1 / 3)
    capture = cv2.VideoCapture(str(read.video))
    frames = []
    while (got := capture.read())[0]:
        frames.append(got[1])
    assert len(frames) == 30 and frames[0].shape == (480, 640, 3)
    assert np.mean(frames[-1]) < 0.6 * np.mean(fixtures.background(11))  # dimmed
    _, jpeg = cv2.imencode(".jpg", frames[0], [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert cv2.Laplacian(cv2.cvtColor(frames[0], cv2.COLOR_BGR2GRAY), cv2.CV_64F).var() < 50  # defocused


def _manifest(tmp_path: Path) -> VideoManifest:
    data = {"video": "x.mp4", "fps": 10, "width": 640, "height": 480,
            "segments": [{"start": 0, "end": 3, "people": []}, {"start": 3, "end": 5, "people": ["Eileen_Collins"]},
                         {"start": 5, "end": 8, "people": []}, {"start": 8, "end": 10, "people": ["unknown"]},
                         {"start": 10, "end": 13, "people": []}],
            "visits": [{"start": 3, "end": 5, "expected": "Eileen_Collins", "x": 330},
                       {"start": 8, "end": 10, "expected": "unknown", "x": 330}]}
    (tmp_path / "m.json").write_text(json.dumps(data))
    return VideoManifest.read(tmp_path / "m.json")


def test_a_run_is_scored_visit_by_visit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    manifest = _manifest(tmp_path)
    rig = ActionsRig(monkeypatch, tmp_path)
    recorded: list[DeviceEvent] = []
    for n in range(26):  # 13 s of 0.5 s clips; the gate sent only every fourth empty clip
        offset, t = n * 0.5, rig.clock.now
        clip = clip_id(t, n)
        recorded.append(ClipRecorded(clip=clip, stream_offset_s=offset))
        people = manifest.people_at(offset, 0.5)
        faces = [eileen() if p != "unknown" else stranger() for p in people]
        status = None if people or n % 4 == 0 else "skipped_still"
        event = recognition(t, *faces, seq=n, status=status)
        rig.actions.sink.handle(event)
        rig.events.append(event)
        rig.advance(0.5)

    result = check_visits(recorded + rig.events, manifest, 0.5)

    assert result.passed, result
    assert [v.decisions for v in result.visits] == [("Eileen_Collins",), ("unknown",)]
    assert [v.door_for for v in result.visits] == [("Eileen_Collins",), ()]
    assert (result.empty_clips, result.recognised_on_empty, result.unmatched) == (18, 5, [])
    assert clip_key("door-1", recorded[0].clip) == rig.events[0].key
