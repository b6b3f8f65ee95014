"""A throwaway stack for one benchmark or rig run: deployed into the emulator under its own prefix, the demo person
enrolled on demand, devices provisioned, destroyed afterwards."""
from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from facegate_contract import StackOutputs
from facegate_rigs.paths import FIXTURES
from services import local_stack, stack
from services.target import Target


@dataclass(frozen=True)
class BenchStack:
    """A throwaway stack deployed for one benchmark: its target, prefix, outputs and a work folder."""

    target: Target
    prefix: str
    outputs: StackOutputs
    work: Path

    @property
    def outputs_path(self) -> Path:
        """The deploy outputs as a file (what `facegate enroll --outputs` and the developer connection read)."""
        return self.work / "outputs.json"

    def device(self, name: str) -> Path:
        """Provision a device (its own API key) and return its device file."""
        from services.device_commands import provision

        path = self.work / f"{name}.json"
        provision(self.target, self.prefix, name).write(path)
        return path

    def enrol_fixture_people(self) -> None:
        """Enrol the demo person from fixtures/images/ with the recognizer's own networks."""
        from recognizer.pipeline import FacePipeline
        from recognizer.face_library.enrolment import enrol_listed_people
        from recognizer.face_library.model_cache import ensure_onnx_models
        from recognizer.face_library.stack_access import StackAccess

        ensure_onnx_models()
        enrol_listed_people(FacePipeline.load("dlib"), StackAccess.open(self.outputs_path), FIXTURES)


@contextmanager
def bench_stack(endpoint_url: str, prefix: str, **options: Any) -> Iterator[BenchStack]:
    """Deploy a stack under `prefix` into the emulator (started when it was not running); afterwards destroy it,
    and stop the emulator again when this started it. `options` are further stack.DeployOptions (image, seed...)."""
    started = local_stack.ensure_emulator(endpoint_url)
    target = Target(endpoint_url=endpoint_url)
    work = Path(tempfile.mkdtemp(prefix=f"facegate-{prefix}-"))
    try:
        outputs = stack.deploy(target, stack.DeployOptions(prefix=prefix, **options)).outputs
        outputs.write(work / "outputs.json")
        yield BenchStack(target, prefix, outputs, work)
    finally:
        stack.destroy(target, prefix)
        if started:
            local_stack.stop_stack()
