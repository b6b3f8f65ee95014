"""The same-face check on synthetic frames: a fixture face on a fixed textured background, moved, swapped, joined
by another face elsewhere, darkened and blurred."""
from __future__ import annotations

import cv2
import pytest

from pi_app.visits.evidence import Box
from pi_app.visits.same_face import MATCH_THRESHOLD, reference_of, same_faces
from tests.unit.same_face_support import BOX, OTHER, frame

REFERENCE = reference_of(frame(), (BOX,))


@pytest.mark.parametrize("dx, dy", [(0, 0), (6, 3), (-20, 8)])
def test_the_same_face_moved_a_little_is_the_same_and_its_box_follows(dx: int, dy: int) -> None:
    result = same_faces(REFERENCE, frame(dx=dx, dy=dy))
    assert result.same, result
    assert result.scores[0] >= MATCH_THRESHOLD
    found = result.boxes[0]
    assert abs(found.x1 - (BOX.x1 + dx)) <= 2 and abs(found.y1 - (BOX.y1 + dy)) <= 2


def test_another_face_at_the_same_place_is_not_the_same() -> None:
    result = same_faces(REFERENCE, frame(OTHER))
    assert not result.same and result.reason == "face_changed"
    assert result.scores[0] < MATCH_THRESHOLD


def test_the_face_gone_is_not_the_same() -> None:
    assert same_faces(REFERENCE, frame(None)).reason == "face_changed"


def test_a_face_moved_further_than_a_face_size_is_not_found() -> None:
    assert not same_faces(REFERENCE, frame(dx=140)).same


def test_a_second_face_stepping_in_elsewhere_is_motion_so_not_the_same() -> None:
    result = same_faces(REFERENCE, frame(second=OTHER))
    assert result.scores[0] >= MATCH_THRESHOLD  # the tracked face itself is still there
    assert not result.same and result.reason == "motion_elsewhere" and result.motion is not None


def test_motion_next_to_the_face_is_the_person_and_does_not_count() -> None:
    rgb = frame()
    rgb[250:330, 250:380] = 255 - rgb[250:330, 250:380]  # shoulders and arms below the face
    assert same_faces(REFERENCE, rgb).same


def test_a_dark_flat_reference_cannot_be_told_apart_so_it_is_never_the_same() -> None:
    dark = reference_of(frame(gain=0.03), (BOX,))
    assert same_faces(dark, frame(gain=0.03)).reason == "no_texture"


def test_the_doorway_going_dark_is_not_the_same() -> None:
    assert not same_faces(REFERENCE, frame(gain=0.25)).same


def test_a_slightly_blurred_frame_of_the_same_face_is_the_same_but_a_smear_is_not() -> None:
    assert same_faces(REFERENCE, frame(blur=1.5)).same
    assert not same_faces(REFERENCE, frame(blur=12)).same


def test_two_faces_must_both_be_found_again() -> None:
    left = Box(40, 60, 130, 150)
    two = frame()
    two[60:150, 40:130] = OTHER
    reference = reference_of(two, (BOX, left))
    assert same_faces(reference, two).same
    one_gone = frame()  # the second face left: its place shows the background
    assert not same_faces(reference, one_gone).same


def test_a_face_at_the_frame_edge_or_another_frame_size_is_not_checked() -> None:
    edge = reference_of(frame(), (Box(600, 150, 690, 240),))
    assert same_faces(edge, frame()).reason == "no_texture"
    assert same_faces(REFERENCE, cv2.resize(frame(), (320, 240))).reason == "frame_size"
    assert same_faces(reference_of(frame(), ()), frame()).reason == "no_faces"
