"""The console's parts on their own: grouping faces, removing a person from the classifier, the command's guards."""
from __future__ import annotations

import inspect

import numpy as np
import pytest

from recognizer.classify.open_set import OpenSetClassifier
from recognizer.faces import UNKNOWN

pytest.importorskip("fastapi", reason="the console extra is not installed")

from facegate_cli.console import command  # noqa: E402
from facegate_cli.console.strangers import FaceRef, average_linkage, parse_token, unknown_faces  # noqa: E402
from services.visit_log import VisitRecord  # noqa: E402


def _people(rng: np.random.Generator, centres: int, each: int, spread: float = 0.1) -> np.ndarray:
    points = []
    for i in range(centres):
        centre = np.zeros(128)
        centre[i] = 1.0
        points.extend(centre + rng.normal(0, spread / np.sqrt(128), 128) for _ in range(each))
    return np.asarray(points, dtype=np.float32)


def test_faces_of_one_person_form_one_group_and_people_stay_apart() -> None:
    faces = _people(np.random.default_rng(1), centres=3, each=4)
    groups = average_linkage(faces, threshold=0.6)
    assert sorted(groups) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]


def test_nothing_joins_under_a_tiny_threshold_and_all_join_under_a_huge_one() -> None:
    faces = _people(np.random.default_rng(2), centres=2, each=3)
    assert len(average_linkage(faces, threshold=0.01)) == 6
    assert average_linkage(faces, threshold=10.0) == [[0, 1, 2, 3, 4, 5]]
    assert average_linkage(np.zeros((0, 128), np.float32), 0.6) == []


def test_a_visits_unknown_faces_are_its_largest_boxed_ones() -> None:
    box = {"x1": 0, "y1": 0, "x2": 10, "y2": 10}
    big = {"x1": 0, "y1": 0, "x2": 50, "y2": 50}
    visit = VisitRecord("v", "d", "", "", 1.0, UNKNOWN, 0.9, 3, [], [], True, evidence=[
        {"key": "a", "name": UNKNOWN, "box": box}, {"key": "b", "name": UNKNOWN, "box": big},
        {"key": "c", "name": "Ada_Lovelace", "box": big}, {"key": "d", "name": UNKNOWN, "box": None},
        {"key": "a", "name": UNKNOWN, "box": box}])
    faces = unknown_faces(visit)
    assert [f.key for f in faces] == ["b", "a"]
    assert parse_token(faces[0].token) == ("b", (0.0, 0.0, 50.0, 50.0))
    assert parse_token("no-box") is None and parse_token("k|1,2,x,4") is None


def test_a_face_token_round_trips() -> None:
    face = FaceRef("v", "clips/d/2026/11/29/x.mp4", (1.5, 2.0, 30.25, 40.0))
    assert parse_token(face.token) == (face.key, face.box)


def test_removing_a_person_keeps_everyone_else_recognised() -> None:
    rng = np.random.default_rng(0)
    people = {name: (rng.normal(0, 1, 128) + rng.normal(0, 0.01, (3, 128))).astype(np.float32)
              for name in ("Ada_Lovelace", "Alan_Turing", "Grace_Hopper")}
    classifier = OpenSetClassifier.empty("dlib", threshold=0.5)
    for name, vectors in people.items():
        classifier = classifier.with_person(name, vectors)
    without = classifier.without_person("Alan_Turing")
    assert without.labels == ["Ada_Lovelace", "Grace_Hopper"] and len(without.gallery) == 6
    assert [i.name for i in without.classify(people["Grace_Hopper"])] == ["Grace_Hopper"] * 3
    assert [i.name for i in without.classify(people["Alan_Turing"])] == [UNKNOWN] * 3
    assert without.without_person("Nobody_Known").labels == without.labels
    assert classifier.labels == ["Ada_Lovelace", "Alan_Turing", "Grace_Hopper"]  # the original is unchanged


def test_adding_to_a_person_keeps_their_gallery() -> None:
    a, b = np.zeros((2, 128), np.float32), np.ones((3, 128), np.float32)
    classifier = OpenSetClassifier.empty("dlib", 0.5).with_person("Ada_Lovelace", a)
    assert classifier.with_person("Ada_Lovelace", b, keep_existing=True).gallery_size("Ada_Lovelace") == 5
    assert classifier.with_person("Ada_Lovelace", b).gallery_size("Ada_Lovelace") == 3
    assert classifier.gallery_size("Nobody_Known") == 0


def test_the_console_listens_on_loopback_unless_told_otherwise() -> None:
    host = inspect.signature(command.console).parameters["host"].default
    assert host == "127.0.0.1"
    assert command._loopback("127.0.0.1") and command._loopback("localhost") and command._loopback("::1")
    assert not command._loopback("0.0.0.0")


def test_the_console_command_is_listed_with_its_extra() -> None:
    from facegate_cli.app import COMMANDS

    assert COMMANDS["console"].extra == "console" and COMMANDS["console"].module == "facegate_cli.console.command"
