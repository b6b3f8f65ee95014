"""The benches that deploy a throwaway stack into the emulator, or run the built images alone, start and print their figures: each one's `--smoke`
run as a subprocess (tests/unit/test_bench_smoke.py lists every bench and runs the others)."""
from __future__ import annotations

import pytest

from tests.unit.test_bench_smoke import BENCHES, run_smoke


@pytest.mark.parametrize("name", [n for n, b in BENCHES.items() if b.emulator])
def test_bench_smoke_against_the_emulator(name: str, emulator: str) -> None:
    run_smoke(name, "--endpoint-url", emulator)


@pytest.mark.parametrize("name", [n for n, b in BENCHES.items() if b.engine])
def test_bench_smoke_on_the_images(name: str, emulator: str) -> None:
    """`emulator`: the stack's fixture is what builds the images (the bench itself uses no stack)."""
    run_smoke(name)
