"""The visit's film carries each clip's faces for "Show faces" (issue #22): every playlist entry has the boxes and
names of its own clip only, in the recognised frame's pixels, nothing biometric; a box that cannot be drawn is left
out; the switch is there, labelled and off."""
from __future__ import annotations

import html
import json
import re
import time
from typing import Any

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the console extra is not installed")
pytest.importorskip("moto", reason="the dev extra (moto) is not installed")

from fastapi.testclient import TestClient  # noqa: E402

from facegate_cli.console.film import clip_faces, film_box, playlist  # noqa: E402
from facegate_contract.wire import VisitReport, convert  # noqa: E402
from tests.unit.console_support import FakeStack  # noqa: E402
from tests.unit.test_console import (NOW, backend, client, face_pipeline, fake_stack, frames,  # noqa: E402,F401
                                     log_in)


def _film(page: str) -> list[dict[str, Any]]:
    """The playlist the page hands the player (the #film element's data-clips)."""
    match = re.search(r"data-clips='([^']*)'", page)
    assert match, "no film on the page"
    return json.loads(html.unescape(match.group(1)))


def _report(stack: FakeStack, visit_id: str, keys: list[str], evidence: list[dict[str, Any]]) -> None:
    stack.visits.report("demo-cam", convert({
        "visit_id": visit_id, "first_at": NOW, "last_at": NOW + 1.0, "decision": "Eileen_Collins", "confidence": 0.9,
        "agreeing": 2, "keys": keys, "evidence": evidence, "ended": True}, VisitReport))


def test_each_clip_of_the_film_carries_its_own_faces_and_nothing_biometric(client: TestClient, fake_stack: FakeStack,
                                                                           frames: list[np.ndarray]) -> None:
    first, box1 = fake_stack.add_clip("demo-cam", frames[20:30], 5, NOW)
    second, box2 = fake_stack.add_clip("demo-cam", frames[40:50], 4, NOW + 0.5)
    stranger = {"x1": 10, "y1": 12, "x2": 70, "y2": 80, "score": 0.98}
    visit_id = time.strftime("%Y%m%dT%H%M%S.000Z", time.gmtime(NOW)) + "-0000abcd"
    _report(fake_stack, visit_id, [first, second], [
        {"key": first, "name": "Eileen_Collins", "confidence": 0.93, "box": box1, "at": NOW,
         "sighting_id": "20261204T180000.000Z-00000001"},
        {"key": first, "name": "unknown", "confidence": 0.41, "box": stranger, "at": NOW},
        {"key": second, "name": "Eileen_Collins", "confidence": 0.88, "box": box2, "at": NOW + 0.5}])
    log_in(client)

    entries = _film(client.get(f"/visits/{visit_id}").text)

    rounded = {k: round(float(v), 1) for k, v in box1.items()}
    assert [e["label"] for e in entries] == [first.rsplit("/", 1)[1][:-4], second.rsplit("/", 1)[1][:-4]]
    assert entries[0]["faces"] == [{"name": "Eileen_Collins", "box": rounded},
                                   {"name": "unknown", "box": {"x1": 10.0, "y1": 12.0, "x2": 70.0, "y2": 80.0}}]
    assert entries[1]["faces"] == [{"name": "Eileen_Collins", "box": {k: round(float(v), 1) for k, v in box2.items()}}]
    shown = json.dumps(entries)
    assert "confidence" not in shown and "sighting" not in shown and "score" not in shown


def test_a_clip_gone_from_the_bucket_takes_its_faces_with_it(client: TestClient, fake_stack: FakeStack,
                                                            frames: list[np.ndarray]) -> None:
    first, box1 = fake_stack.add_clip("demo-cam", frames[20:30], 5, NOW)
    second, box2 = fake_stack.add_clip("demo-cam", frames[40:50], 4, NOW + 0.5)
    visit_id = time.strftime("%Y%m%dT%H%M%S.000Z", time.gmtime(NOW)) + "-0000abce"
    _report(fake_stack, visit_id, [first, second], [
        {"key": first, "name": "Eileen_Collins", "confidence": 0.9, "box": box1, "at": NOW},
        {"key": second, "name": "unknown", "confidence": 0.5, "box": box2, "at": NOW + 0.5}])
    fake_stack.s3.delete_object(Bucket=fake_stack.outputs.bucket, Key=first)
    log_in(client)

    entries = _film(client.get(f"/visits/{visit_id}").text)

    assert len(entries) == 1 and [f["name"] for f in entries[0]["faces"]] == ["unknown"]


def test_the_show_faces_switch_is_labelled_and_off(client: TestClient, fake_stack: FakeStack,
                                                   frames: list[np.ndarray]) -> None:
    clip = fake_stack.add_clip("demo-cam", frames[20:30], 5, NOW)
    visit_id = fake_stack.add_visit("demo-cam", "unknown", [clip], NOW)
    log_in(client)

    page = client.get(f"/visits/{visit_id}").text

    switch = re.search(r'<label class="film-faces-switch">(<input [^>]*>)\s*Show faces</label>', page)
    assert switch and 'type="checkbox"' in switch.group(1) and "checked" not in switch.group(1)
    assert re.search(r'<div class="film-faces" id="film-faces"[^>]* hidden>', page)
    assert 'data-box-side="640"' in page  # the frame the boxes are measured in
    assert _film(page)[0]["faces"][0]["name"] == "unknown"


@pytest.mark.parametrize("box", [None, "x", {}, {"x1": 1, "y1": 2, "x2": 3}, {"x1": 5, "y1": 5, "x2": 5, "y2": 9},
                                 {"x1": 9, "y1": 5, "x2": 3, "y2": 9}, {"x1": "a", "y1": 1, "x2": 2, "y2": 3},
                                 {"x1": float("nan"), "y1": 1, "x2": 2, "y2": 3}])
def test_a_box_that_cannot_be_drawn_is_left_out(box: Any) -> None:
    assert film_box(box) is None
    assert clip_faces([{"key": "k", "name": "Eileen_Collins", "box": box}], "k") == []


def test_a_face_without_a_name_is_unknown_and_other_clips_faces_stay_out() -> None:
    box = {"x1": 1, "y1": 2, "x2": 30, "y2": 40}
    evidence = [{"key": "clips/a/2026/12/04/x.mp4", "box": box},
                {"key": "clips/a/2026/12/04/y.mp4", "name": "Eileen_Collins", "box": box}]
    assert clip_faces(evidence, "clips/a/2026/12/04/x.mp4") == [
        {"name": "unknown", "box": {"x1": 1.0, "y1": 2.0, "x2": 30.0, "y2": 40.0}}]
    assert [e["faces"] for e in playlist(["clips/a/2026/12/04/z.mp4"], evidence)] == [[]]
