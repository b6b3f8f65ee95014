"""The spool survives a crash: a restart resumes exactly the unfinished clips and never redoes finished work."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from stat import S_ISDIR

import pytest

from facegate_contract import clip_key
from pi_app.recording.clip_state import PENDING, RECOGNISED, UPLOADED
from pi_app.runtime.clip_worker import ClipWorker
from pi_app.recording.durable_files import DiskSync
from pi_app.recording.spool import CLIP_FILE, FRAME_FILE, INCOMING, STATE_FILE, Spool
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


class WatchedSync(DiskSync):
    """Records every fsync (what, which path) with what the spool looked like at that moment, then does it."""

    def __init__(self, spool_root: Path) -> None:
        self.root = spool_root
        self.calls: list[tuple[str, Path, set[str]]] = []

    def _seen(self) -> set[str]:
        return {str(p.relative_to(self.root)) for p in self.root.rglob("*")}

    def file(self, path: Path) -> None:
        self.calls.append(("file", path, self._seen()))
        super().file(path)

    def directory(self, path: Path) -> None:
        self.calls.append(("dir", path, self._seen()))
        super().directory(path)

    def dirs(self) -> list[Path]:
        return [path for kind, path, _ in self.calls if kind == "dir"]


def test_a_commit_syncs_the_files_before_the_rename_and_the_spool_folder_after_it(tmp_path: Path) -> None:
    sync = WatchedSync(tmp_path)
    spool = Spool(tmp_path, sync=sync)

    state = add_clip(spool, 0, FakeClock().now)

    files = [(path.name, seen) for kind, path, seen in sync.calls if kind == "file"]
    assert [name for name, _ in files] == [CLIP_FILE, FRAME_FILE]
    assert all(f"{INCOMING}/{state.clip}/{CLIP_FILE}" in seen for _, seen in files)  # still staged: before the rename
    kind, path, seen = sync.calls[-2]
    assert (kind, path) == ("dir", tmp_path) and f"{state.clip}/{STATE_FILE}" in seen  # after the rename
    assert sync.dirs()[-1] == tmp_path / INCOMING


def test_every_state_save_syncs_the_clip_folder_after_the_replace(tmp_path: Path) -> None:
    sync = WatchedSync(tmp_path)
    spool = Spool(tmp_path, sync=sync)
    state = add_clip(spool, 0, FakeClock().now)
    sync.calls.clear()

    state.recognition.attempts = 3
    spool.save(state)

    assert sync.dirs() == [spool.folder(state.clip)]
    kind, _, seen = sync.calls[-1]
    assert f"{state.clip}/.{STATE_FILE}.tmp" not in seen  # the rename was done before the folder was synced


def test_finishing_a_clip_syncs_the_spool_folder_after_the_delete(tmp_path: Path) -> None:
    sync = WatchedSync(tmp_path)
    spool = Spool(tmp_path, sync=sync)
    state = add_clip(spool, 0, FakeClock().now)
    sync.calls.clear()

    spool.finish(state)

    ((kind, path, seen),) = sync.calls
    assert (kind, path) == ("dir", tmp_path) and state.clip not in seen


def test_disk_sync_fsyncs_a_descriptor_of_the_directory_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[os.stat_result] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(os.fstat(fd)), real_fsync(fd))[1])

    DiskSync().directory(tmp_path)

    (stat,) = synced
    assert S_ISDIR(stat.st_mode) and stat.st_ino == tmp_path.stat().st_ino


def test_the_spool_keeps_a_running_total_of_its_clips_bytes(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    first = add_clip(spool, 0, FakeClock().now)
    second = add_clip(spool, 1, FakeClock().now)
    on_disk = sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file())

    assert spool.bytes_used() == on_disk > 0
    assert Spool(tmp_path).bytes_used() == on_disk  # a restart counts what is there
    spool.finish(first)
    assert spool.bytes_used() == sum(p.stat().st_size for p in spool.folder(second.clip).iterdir())


def test_keep_done_finishes_a_clip_that_has_no_folder_here(tmp_path: Path) -> None:
    """A kept clip bundled with its visit lives in `.kept/`: finishing it with `keep_done` keeps nothing and fails
    nothing (it used to write its state into a folder that is not there)."""
    clock = FakeClock()
    spool = Spool(tmp_path / "spool", keep_done=True)
    state = add_clip(spool, 0, clock.now, recognition__status=RECOGNISED, upload__status=UPLOADED)
    shutil.rmtree(spool.folder(state.clip))
    spool.finish(state)
    assert not spool.folder(state.clip).exists()
