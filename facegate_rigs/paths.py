"""Where the rigs find the checkout's fixtures, the shared face dataset and the benches' result folder."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "images"
DEMO_VIDEO = ROOT / "fixtures" / "videos" / "demo.mp4"
RESULTS = ROOT / "bench-results"
# ../shared/datasets/lfw-dev beside the checkout (CI has it there); FACEGATE_LFW_DEV names another place.
LFW_DEV = Path(os.environ.get("FACEGATE_LFW_DEV") or ROOT.parent / "shared" / "datasets" / "lfw-dev")
