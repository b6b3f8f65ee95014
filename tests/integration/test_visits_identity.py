"""Identity-aware visits through the real device app, API, Lambda and DynamoDB: people following each other at
one spot (scripts/make_fixture_videos.py --identity: a stranger 0 s and 1 s behind a resident, a stranger behind
a stranger, one resident behind another, two side by side, one person looking away and back) are one visit each,
decided right, with the door only for the resident allowed in and one alert per stranger."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from facegate_contract import StackOutputs
from pi_app.tools.run_check import check_identity, check_visits
from pi_app.tools.video_manifest import VideoManifest
from tests.integration.conftest import post_frame
from pi_app.recording.motion_gate import MotionPolicy
from facegate_rigs.doorway import (
    enrol_and_build,
    identity_manifests,
    run_doorway,
)

# Without the face descriptor only names tell people apart: these cases need it.
NEED_DESCRIPTORS = {"resident_then_stranger_0s", "resident_then_stranger_1s", "stranger_then_stranger"}


@pytest.fixture(scope="module")
def cases(lfw_dev: Path, deployed: tuple[StackOutputs, Path],
          tmp_path_factory: pytest.TempPathFactory) -> dict[str, VideoManifest]:
    """Every identity case, its known people enrolled (from training/)."""
    out = tmp_path_factory.mktemp("identity")
    enrol_and_build(lfw_dev, deployed[1], out, videos="--identity")
    return {json.loads(m.video.with_suffix(".json").read_text())["case"]: m for m in identity_manifests(out)}


@pytest.fixture(scope="module")
def descriptors_answered(cases: dict[str, VideoManifest], deployed: tuple[StackOutputs, Path]) -> bool:
    """Whether the deployed recognizer answers face descriptors (an image built before them does not)."""
    import cv2

    capture = cv2.VideoCapture(str(cases["known_then_known"].video))
    capture.set(cv2.CAP_PROP_POS_FRAMES, 50)  # 5 s in: a face at the spot
    frame = cv2.imencode(".jpg", capture.read()[1])[1].tobytes()
    faces = post_frame(deployed[0], frame).json()["faces"]
    return bool(faces) and all(f.get("descriptor") for f in faces)


@pytest.mark.parametrize("case", ["resident_then_stranger_0s", "resident_then_stranger_1s", "stranger_then_stranger",
                                  "known_then_known", "side_by_side", "looking_away"])
def test_each_person_is_one_visit_decided_right_with_the_right_door_and_alerts(
        case: str, cases: dict[str, VideoManifest], descriptors_answered: bool, add_device, tmp_path: Path) -> None:
    if case in NEED_DESCRIPTORS and not descriptors_answered:
        pytest.skip("the deployed recognizer image answers no face descriptors: rebuild it (scripts/prepare-images)")
    manifest = cases[case]
    events, alerts = run_doorway(add_device(f"it-id-{uuid.uuid4().hex[:6]}"), manifest, tmp_path, MotionPolicy())

    identity = check_identity(events, manifest, 0.5)
    visits = check_visits(events, manifest, 0.5)
    report = {"identity": identity.to_json(),
              "visits": [(v.expected.expected, v.decisions, v.door_for, v.alerts) for v in visits.visits]}
    print(json.dumps({"case": case, **report}))
    assert identity.passed, report  # 0 merges, 0 splits, 0 identity switches, 0 wrong decisions
    assert all(v.door_right and v.alerts_right for v in visits.visits), report
    assert len(alerts) == sum(v.expected == "unknown" for v in manifest.visits)
