"""The identity cases of the doorway fixture generator (people following each other at one spot) and the
MOT-style scoring of a run against their manifests."""
from __future__ import annotations

import json
from pathlib import Path

from facegate_contract.device_events import ClipRecorded, DeviceEvent, VisitEnded
from facegate_contract.wire import Box, EvidenceVote
from pi_app.tools.run_check import check_identity
from pi_app.tools.video_manifest import VideoManifest
from tests.unit.pi_support import face_frame
from tests.unit.test_pi_hard_fixture import fixtures

CASES = fixtures.identity_cases(("Laura_Bush", "Vladimir_Putin"))


def _people(case: str) -> list[tuple[float, float, str, float]]:
    """(start, end, label, x) of each person in a case's script, shot by shot."""
    made, t = [], 0.0
    for shot in CASES[case]:
        made += [(t, t + shot.seconds, w.label, w.x1) for w in shot.walkers]
        t += shot.seconds
    return made


def test_the_cases_that_broke_grouping_by_place_are_all_there() -> None:
    assert set(CASES) == {"resident_then_stranger_0s", "resident_then_stranger_1s", "stranger_then_stranger",
                          "known_then_known", "side_by_side", "looking_away"}
    first, second = _people("resident_then_stranger_0s")
    assert (first[2], second[2], second[0] - first[1], first[3] == second[3]) == ("Laura_Bush", "unknown", 0, True)
    first, second = _people("resident_then_stranger_1s")
    assert second[0] - first[1] == 1.0 and second[2] == "unknown"
    assert [p[2] for p in _people("known_then_known")] == ["Laura_Bush", "Vladimir_Putin"]
    assert [p[2] for p in _people("stranger_then_stranger")] == ["unknown", "unknown"]
    left, right = _people("side_by_side")
    assert left[:2] == right[:2] and 100 < right[3] - left[3] < 2.5 * 85  # at once, under 2.5 face sizes apart
    assert all(float(s.seconds * 2).is_integer() for shots in CASES.values() for s in shots)


def test_a_person_looking_away_and_back_is_one_visit_in_the_manifest(tmp_path: Path) -> None:
    portrait = face_frame()[90:390, 170:470]
    shots = [fixtures.HardShot(1.0, [], 0.8),
             fixtures.HardShot(1.0, [fixtures.Walker("p", "Eileen_Collins", 320, 320, 80, 80, 3, visit="e")], 0.8),
             fixtures.HardShot(0.5, [fixtures.Walker("p~turned", "Eileen_Collins", 320, 320, 80, 80, 3, visit="e")],
                               0.8),
             fixtures.HardShot(1.0, [fixtures.Walker("p", "Eileen_Collins", 320, 320, 80, 80, 3, visit="e")], 0.8),
             fixtures.HardShot(1.0, [fixtures.Walker("s", "unknown", 320, 320, 80, 80, 3)], 0.8)]
    manifest = fixtures.render_hard(shots, {"p": portrait, "p~turned": fixtures.turned_away(portrait),
                                            "s": portrait[::-1]}, tmp_path / "v.mp4",
                                    degradation=fixtures.IDENTITY_DEGRADATION)
    (tmp_path / "v.json").write_text(json.dumps(manifest))

    read = VideoManifest.read(tmp_path / "v.json")
    assert [(v.start, v.end, v.expected) for v in read.visits] == [(1.0, 3.5, "Eileen_Collins"),
                                                                  (3.5, 4.5, "unknown")]
    assert manifest["degradation"]["jpeg_quality"] == 60


def _ended(visit_id: str, decision: str, clips: list[str], x: float = 320) -> VisitEnded:
    box = Box(x - 40, 150, x + 40, 230)
    return VisitEnded(visit_id=visit_id, first_at=0.0, last_at=1.0, decision=decision, clips=clips,
                      evidence=[EvidenceVote(key=f"clips/door-1/{c}.mp4", clip=c, box=box) for c in clips])


def test_a_run_is_scored_in_merges_splits_and_identity_switches(tmp_path: Path) -> None:
    data = {"video": "x.mp4", "fps": 10, "width": 640, "height": 480,
            "segments": [{"start": 0, "end": 2, "people": ["Laura_Bush"]}, {"start": 2, "end": 4, "people": ["unknown"]}],
            "visits": [{"start": 0, "end": 2, "expected": "Laura_Bush", "x": 320},
                       {"start": 2, "end": 4, "expected": "unknown", "x": 320}]}
    (tmp_path / "m.json").write_text(json.dumps(data))
    manifest = VideoManifest.read(tmp_path / "m.json")
    recorded: list[DeviceEvent] = [ClipRecorded(clip=f"c{n}", stream_offset_s=n * 0.5) for n in range(8)]
    clips = [f"c{n}" for n in range(8)]

    merged = check_identity(recorded + [_ended("v1", "Laura_Bush", clips)], manifest, 0.5)
    assert (merged.merges, merged.splits, merged.wrong, merged.visits_per_person) == (1, 0, 1, 0.5)
    right = check_identity(recorded + [_ended("v1", "Laura_Bush", clips[:4]), _ended("v2", "unknown", clips[4:])],
                           manifest, 0.5)
    assert right.passed and right.decisions == (("Laura_Bush", "Laura_Bush"), ("unknown", "unknown"))
    split = check_identity(recorded + [_ended("v1", "Laura_Bush", clips[:2]), _ended("v3", "Laura_Bush", clips[2:4]),
                                       _ended("v2", "unknown", clips[4:])], manifest, 0.5)
    assert (split.splits, split.switches, split.merges, split.wrong) == (1, 1, 0, 0)
