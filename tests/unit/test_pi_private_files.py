"""What the device keeps of visitors (clips and faces in the spool, events, alerts, visit reports) is owner-only:
folders 0700, files 0600, whatever the umask, and an older world-readable tree is tightened when the device starts."""
from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from facegate_contract.device_events import ClipRecognition, VisitEnded
from pi_app.actions.alert import Alert
from pi_app.actions.alert_outbox import AlertOutbox
from pi_app.runtime.events import EventLog
from pi_app.recording.spool import Spool
from pi_app.transport.visit_reporter import VisitReporter
from tests.unit.pi_support import FakeClock, add_clip


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The usual umask (022): what it lets through is world-readable."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def loose_modes(root: Path) -> list[str]:
    """Every folder not 0700 and every file not 0600 under `root` (itself included)."""
    loose = []
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode != (0o700 if path.is_dir() else 0o600):
            loose.append(f"{path.relative_to(root.parent)} {mode:o}")
    return loose


def _alert() -> Alert:
    return Alert(id="a-1", rule="unknown", name="unknown", confidence=0.5, device_id="door-1", seen_at=1.0,
                 created_at=1.0, clip="c", clip_key="clips/door-1/c.mp4", details={"name": "Eileen Collins"})


def _fill(root: Path) -> None:
    spool = Spool(root / "spool")
    state = add_clip(spool, 0, FakeClock().now)
    state.recognition.attempts = 1
    spool.save(state)
    outbox = AlertOutbox(root / "alerts")
    outbox.put(_alert())
    outbox.give_up(_alert(), "refused")
    outbox.put(_alert())
    VisitReporter(root / "reports", send=lambda body: None).handle(
        VisitEnded(visit_id="20261123T231158.500Z-1a2b3c4d", first_at=1.0, last_at=2.0))
    events = EventLog(root / "device" / "events.jsonl")
    events.handle(ClipRecognition(clip="c", status="recognised", names=["Eileen_Collins"]))
    events.close()


def test_spool_events_alerts_and_reports_are_owner_only(tmp_path: Path, open_umask: None) -> None:
    _fill(tmp_path)

    for folder in ("spool", "alerts", "reports", "device"):
        assert loose_modes(tmp_path / folder) == [], folder


def test_an_older_world_readable_tree_is_tightened_at_start(tmp_path: Path, open_umask: None) -> None:
    _fill(tmp_path)
    for path in [tmp_path, *tmp_path.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)  # as an older version left it

    Spool(tmp_path / "spool")
    AlertOutbox(tmp_path / "alerts")
    VisitReporter(tmp_path / "reports", send=lambda body: None)
    EventLog(tmp_path / "device" / "events.jsonl").close()

    for folder in ("spool", "alerts", "reports"):
        assert loose_modes(tmp_path / folder) == [], folder
    assert stat.S_IMODE((tmp_path / "device" / "events.jsonl").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "device").stat().st_mode) == 0o755  # a folder it did not make is left alone


def test_threads_saving_one_file_at_once_take_turns(tmp_path: Path) -> None:
    """Two workers may save one clip's state at the same moment (a bundle finishing its members): neither fails and
    the file holds one whole text, as a crash-free save promises."""
    import threading

    from facegate_contract import write_private_text

    path, failures = tmp_path / "state.json", []

    def save(worker: int) -> None:
        for n in range(150):
            try:
                write_private_text(path, json.dumps({"worker": worker, "n": n}))
            except OSError as exc:
                failures.append(exc)

    threads = [threading.Thread(target=save, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert json.loads(path.read_text())["n"] == 149
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temporary file left behind
