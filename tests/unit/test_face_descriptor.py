"""The face descriptor: 24 bytes per face in the /recognize answer (biometric: in the answer only, never in a
sighting), the same face close and another face far in cosine."""
from __future__ import annotations

import numpy as np

from facegate_contract.wire import Face, RecognizeAnswer, decode, encode
from recognizer.embed.descriptor import DESCRIPTOR_BYTES, _basis, face_descriptors
from recognizer.faces import Detection, Identity, RecognizedFace
from recognizer.recognize.sightings_log import SightingsLog


def _cosine(a: bytes, b: bytes) -> float:
    x, y = np.frombuffer(a, np.int8).astype(float), np.frombuffer(b, np.int8).astype(float)
    return float(x @ y / np.linalg.norm(x) / np.linalg.norm(y))


def test_a_descriptor_is_24_signed_bytes_close_for_the_same_face_and_far_for_another() -> None:
    rng = np.random.default_rng(1)
    mean, _ = _basis()  # faces differ from the average face in different directions
    a, b = (mean + rng.normal(0, 0.1, (2, 128))).astype(np.float32)
    first, again, other = face_descriptors(np.stack([a, a + rng.normal(0, 0.01, 128).astype(np.float32), b]))

    assert DESCRIPTOR_BYTES == 24 and all(isinstance(d, bytes) and len(d) == 24 for d in (first, again, other))
    assert _cosine(first, again) > 0.95 and _cosine(first, other) < 0.5


def test_another_embedder_gets_no_descriptor() -> None:
    assert face_descriptors(np.zeros((2, 512), np.float32)) == [None, None]
    assert face_descriptors(np.zeros((0, 128), np.float32)) == []


def _face(descriptor: bytes | None) -> RecognizedFace:
    return RecognizedFace(Detection((10, 10, 70, 70), 0.99), Identity("unknown", 0.8, 0.7), descriptor=descriptor)


def test_the_answer_carries_it_in_base64_about_45_bytes_per_face() -> None:
    descriptor = face_descriptors(np.ones((1, 128), np.float32))[0]
    with_it, without = (encode(_face(d).to_wire()) for d in (descriptor, None))

    assert len(with_it) - len(without) <= 48  # `,"descriptor":"<32 base64 chars>"`
    answer = decode(encode(RecognizeAnswer(faces=[_face(descriptor).to_wire()], model_version="m")), RecognizeAnswer)
    assert answer.faces[0].descriptor == descriptor
    assert decode(without, Face).descriptor is None  # an older recognizer: no descriptor, still a valid answer


def test_a_sighting_never_stores_the_descriptor() -> None:
    class Table:
        def __init__(self) -> None:
            self.items: list[dict] = []

        def put_item(self, Item: dict, **_: object) -> None:
            self.items.append(Item)

    table = Table()
    SightingsLog(table).record([_face(b"\x01" * 24)], "door-1", "", "m1")
    assert table.items and not any(isinstance(v, bytes) or "descriptor" in k for k, v in table.items[0].items())
