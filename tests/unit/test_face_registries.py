"""The detector and embedder registries: one module a name, each with a `make(settings)`, and the same names the
contract's settings accept (FACEGATE_DETECTOR, FACEGATE_BACKEND), so a new one cannot be half-added."""
from __future__ import annotations

import importlib

import numpy as np
import pytest

from facegate_contract import settings
from recognizer.detect.registry import DETECTORS, make_detector
from recognizer.embed.registry import EMBEDDERS, make_embedder
from recognizer.model_files import ModelUnavailable


def test_the_registries_name_what_the_settings_accept() -> None:
    assert tuple(DETECTORS) == settings.DETECTORS
    assert tuple(EMBEDDERS) == settings.BACKENDS


@pytest.mark.parametrize("module", [*DETECTORS.values(), *EMBEDDERS.values()])
def test_each_entry_is_a_module_with_a_factory(module: str) -> None:
    assert callable(importlib.import_module(module).make)  # importing it loads no torch: that waits for make()


def test_an_unknown_name_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ModelUnavailable, match="mtcnn, mtcnn-torch"):
        make_detector("haar")
    with pytest.raises(ModelUnavailable, match="dlib, facenet"):
        make_embedder("eigenfaces")


def test_the_serving_pair_is_built_by_name(onnx_models: object) -> None:
    blank = np.zeros((120, 160, 3), np.uint8)
    assert make_detector("mtcnn").detect(blank) == []
    embedder = make_embedder("dlib")
    assert (embedder.name, embedder.dimension, embedder.embed(blank, []).shape) == ("dlib", 128, (0, 128))
