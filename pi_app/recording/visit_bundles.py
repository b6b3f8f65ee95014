"""Visit bundles on disk: which visits' clips are to go to S3 as one ZIP, and the ZIP files themselves.

A bundle's record, `<spool>/.bundles/<visit-id>.json`, is written (atomically, durably) when its visit ends, before
anything else happens to its clips, so a crash at any later step leaves it to be done again at the next start:
- `since` / `until`: the window of recording start times its clips lie in: from end_after_s before the visit's
  first face (the clips the visit reaches) to the tail after its last; `kept_since`: from when the clips kept on the
  device as an empty doorway are brought back into it (the upload policy's margin before the first face);
- `clips`: the visit's own clips (those with its faces): always its own, even where another visit's window reaches;
- `ended_at`: when the visit ended (device clock): its clips still in recognition hold the bundle a while at most;
- `uploaded` / `members`: once the bundle is in S3, the clips it holds (what a restart finishes). A done record is
  kept a while, so a late clip of the same visit goes up alone instead of replacing the bundle.

The ZIP is uncompressed (ZIP_STORED: MP4 does not compress, and the console reads a member without inflating it);
its members are `<clip-id>.mp4`, each with its S3 metadata (what a clip uploaded alone carries) as JSON in the
member's comment.
"""
from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from facegate_contract import PRIVATE_DIR_MODE, bundle_member, is_visit_id
from pi_app.recording.durable_files import DISK_SYNC, DiskSync, private_file, write_atomically

BUNDLES = ".bundles"
DONE_KEPT = 64  # done records remembered (a late clip of a recent visit must not replace its bundle)


@dataclass
class BundleRecord:
    """One visit's bundle: where it goes, which clips it takes, and (once uploaded) which it holds."""

    visit_id: str
    key: str
    since: float  # clips whose recording started in [since, until] belong to it
    until: float
    kept_since: float = 0.0
    clips: list[str] = field(default_factory=list)
    ended_at: float = 0.0
    attempts: int = 0  # uploads tried
    uploaded: bool = False
    members: list[str] = field(default_factory=list)  # set once it is in S3

    def covers(self, started_at: float) -> bool:
        """True when a clip that started recording at `started_at` belongs to this bundle's visit."""
        return self.since <= started_at <= self.until


@dataclass(frozen=True)
class BundleMember:
    """One clip to put in a bundle: its id, its MP4 and its S3 metadata."""

    clip: str
    path: Path
    metadata: dict[str, str]


def write_bundle_zip(target: Path, members: Iterable[BundleMember], sync: DiskSync = DISK_SYNC) -> Path:
    """Write a bundle ZIP at `target` afresh, durably (a crash mid-write leaves only a temporary file): members
    `<clip-id>.mp4`, uncompressed, each with its metadata as JSON in the member's comment. Visit bundles and footage
    bundles (pi_app.runtime.footage) are both this one layout, which the console reads."""
    partial = target.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as bundle:
        for member in members:
            info = zipfile.ZipInfo.from_file(member.path, arcname=bundle_member(member.clip))
            info.compress_type = zipfile.ZIP_STORED
            info.comment = json.dumps(member.metadata, sort_keys=True).encode("ascii")
            with open(member.path, "rb") as source, bundle.open(info, "w") as out:
                out.write(source.read())
    private_file(partial)
    sync.file(partial)
    os.replace(partial, target)
    sync.directory(target.parent)
    return target


class BundleStore:
    """The `.bundles/` folder of a spool: records and ZIP files, one of each per visit."""

    def __init__(self, spool_root: Path, sync: DiskSync = DISK_SYNC) -> None:
        self.root = Path(spool_root) / BUNDLES
        self.root.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
        self.sync = sync

    def _record_path(self, visit_id: str) -> Path:
        return self.root / f"{visit_id}.json"

    def zip_path(self, visit_id: str) -> Path:
        """Where the visit's ZIP is written before its upload."""
        return self.root / f"{visit_id}.zip"

    def save(self, record: BundleRecord) -> None:
        """Write a record atomically and durably."""
        write_atomically(self._record_path(record.visit_id), json.dumps(asdict(record)), self.sync)

    def load(self, visit_id: str) -> BundleRecord | None:
        """The visit's record; None when there is none or it cannot be read (a mangled one is no bundle)."""
        try:
            data = json.loads(self._record_path(visit_id).read_text(encoding="utf-8"))
            return BundleRecord(**data)
        except (OSError, ValueError, TypeError):
            return None

    def records(self) -> list[BundleRecord]:
        """Every readable record, oldest visit first (visit ids sort by start time)."""
        visits = sorted(p.stem for p in self.root.glob("*.json") if is_visit_id(p.stem))
        return [record for record in map(self.load, visits) if record is not None]

    def write_zip(self, visit_id: str, members: Iterable[BundleMember]) -> Path:
        """Write the visit's ZIP afresh (a crash mid-write leaves only a temporary file); returns its path."""
        return write_bundle_zip(self.zip_path(visit_id), members, self.sync)

    def finished(self, record: BundleRecord) -> None:
        """The bundle is in S3 and its clips finished: drop its ZIP, keep its record as done (the latest
        DONE_KEPT only)."""
        self.zip_path(record.visit_id).unlink(missing_ok=True)
        done = [r for r in self.records() if r.uploaded]
        for old in done[:-DONE_KEPT]:
            self._record_path(old.visit_id).unlink(missing_ok=True)
