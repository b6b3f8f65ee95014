"""The spool survives a crash: a restart resumes exactly the unfinished clips and never redoes finished work."""
from __future__ import annotations

import json
from pathlib import Path

from facegate_contract import clip_key
from pi_app.clip_state import PENDING, RECOGNISED, UPLOADED
from pi_app.clip_worker import ClipWorker
from pi_app.spool import STATE_FILE, Spool
from tests.unit.pi_support import FakeClock, FakeRecognizer, FakeUploader, add_clip


def _spool_after_a_crash(root: Path, clock: FakeClock) -> dict[str, str]:
    spool = Spool(root, keep_done=True)
    return {
        "done": add_clip(spool, 0, clock.now, recognition__status=RECOGNISED, upload__status=UPLOADED).clip,
        "needs_upload": add_clip(spool, 1, clock.now, recognition__status=RECOGNISED).clip,
        "untouched": add_clip(spool, 2, clock.now).clip,
        "retried_once": add_clip(spool, 3, clock.now, recognition__attempts=1, recognition__error="503").clip,
    }


def test_a_reopened_spool_lists_exactly_the_unfinished_clips(tmp_path: Path) -> None:
    clips = _spool_after_a_crash(tmp_path / "spool", FakeClock())

    reopened = Spool(tmp_path / "spool")  # the process died; a new one starts

    assert reopened.unfinished() == [clips["needs_upload"], clips["untouched"], clips["retried_once"]]
    assert reopened.load(clips["retried_once"]).recognition.attempts == 1  # history survives too


def test_resuming_redoes_only_what_is_missing(tmp_path: Path) -> None:
    clock = FakeClock()
    clips = _spool_after_a_crash(tmp_path / "spool", clock)
    spool = Spool(tmp_path / "spool")
    recognizer, uploader = FakeRecognizer(), FakeUploader()
    worker = ClipWorker(spool, recognizer, uploader, lambda event: None, clock=clock)

    for clip in spool.unfinished():
        assert worker.process(clip) is None

    assert sorted(recognizer.keys) == sorted(clip_key("dev-1", clips[c]) for c in ("untouched", "retried_once"))
    assert sorted(uploader.objects) == sorted(clip_key("dev-1", clips[c]) for c in ("needs_upload", "untouched", "retried_once"))
    assert spool.unfinished() == []
    assert spool.clips() == [clips["done"]]  # finished folders are deleted (that one was kept by keep_done)


def test_state_is_replaced_atomically_and_a_stale_temp_file_is_harmless(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    state = add_clip(spool, 0, FakeClock().now)
    folder = spool.folder(state.clip)
    (folder / f".{STATE_FILE}.tmp").write_text('{"half": ')  # a crash in the middle of a save

    state.recognition.attempts = 2
    spool.save(state)

    assert json.loads((folder / STATE_FILE).read_text())["recognition"]["attempts"] == 2
    assert [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] == []
    assert Spool(tmp_path).load(state.clip).recognition.status == PENDING


def test_an_unreadable_state_is_left_alone_and_does_not_stop_the_others(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    broken = add_clip(spool, 0, FakeClock().now)
    fine = add_clip(spool, 1, FakeClock().now)
    (spool.folder(broken.clip) / STATE_FILE).write_text("{not json")

    assert Spool(tmp_path).unfinished() == [fine.clip]
    assert spool.folder(broken.clip).is_dir()


def test_sequence_numbers_continue_after_a_restart(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    add_clip(spool, 7, FakeClock().now)

    assert Spool(tmp_path).next_seq() == 8
    assert Spool(tmp_path / "empty").next_seq() == 0
