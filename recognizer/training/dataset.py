"""The seed's face-data layout: DATA/training/<First_Last>/*, DATA/val/<First_Last>/*, optional unknown/."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}


@dataclass(frozen=True)
class LabelledImage:
    path: Path
    label: str


def images_in(folder: Path) -> list[Path]:
    """Image files directly inside `folder`, sorted."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) if folder.is_dir() else []


def labelled_split(data_dir: Path, split: str) -> list[LabelledImage]:
    """Every image of `split` ("training" or "val") with its person label."""
    root = data_dir / split
    if not root.is_dir():
        raise FileNotFoundError(f"{root} does not exist: expected {data_dir}/{{training,val}}/<First_Last>/*.jpg")
    return [LabelledImage(p, person.name) for person in sorted(root.iterdir()) if person.is_dir() for p in images_in(person)]
