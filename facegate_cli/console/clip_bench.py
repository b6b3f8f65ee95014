"""Measure what each clip format costs: the device's encoder per 0.5 s clip (CPU, wall time, bytes) and the
console's transcode of an mp4v clip to VP8/WebM. The numbers behind the clip format decision in docs/console.md.

    python -m facegate_cli.console.clip_bench [--video fixtures/videos/demo.mp4] [--fps 20] [--repeat 3]

Frames come from a real video (default: the demo fixture, 640x480); clips are cut as the device cuts them
(`fps` * 0.5 s frames each). CPU time counts every thread of the process (libvpx may use several).
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from facegate_cli.console.clip_media import decode_frames, transcode_to_webm

FORMATS = (("mp4v", ".mp4"), ("avc1", ".mp4"), ("VP80", ".webm"), ("VP90", ".webm"))


def _clips(video: Path, per_clip: int) -> list[list[np.ndarray]]:
    frames, _ = decode_frames(video)
    return [frames[i:i + per_clip] for i in range(0, len(frames) - per_clip + 1, per_clip)]


def _encode(clip: list[np.ndarray], fourcc: str, suffix: str, fps: float, folder: Path) -> tuple[float, float, int] | None:
    path = folder / f"clip{suffix}"
    height, width = clip[0].shape[:2]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*fourcc), fps, (width, height))
    if not writer.isOpened():
        return None
    for frame in clip:
        writer.write(frame)
    writer.release()
    return time.process_time() - cpu0, time.perf_counter() - wall0, path.stat().st_size


def measure(video: Path, fps: float, repeat: int) -> dict:
    per_clip = max(1, round(fps * 0.5))
    clips = _clips(video, per_clip)
    if not clips:
        raise SystemExit(f"{video} is shorter than one clip")
    height, width = clips[0][0].shape[:2]
    report: dict = {"video": video.name, "size": f"{width}x{height}", "frames_per_clip": per_clip, "clips": len(clips),
                    "opencv": cv2.__version__, "formats": {}}
    with tempfile.TemporaryDirectory(prefix="facegate-bench-") as tmp:
        folder = Path(tmp)
        for fourcc, suffix in FORMATS:
            runs = [_encode(clip, fourcc, suffix, fps, folder) for _ in range(repeat) for clip in clips]
            if any(r is None for r in runs):
                report["formats"][fourcc] = "no encoder in this OpenCV build"
                continue
            cpu = [r[0] * 1e3 for r in runs if r]
            wall = [r[1] * 1e3 for r in runs if r]
            size = [r[2] for r in runs if r]
            report["formats"][fourcc] = {
                "cpu_ms_per_clip": round(statistics.median(cpu), 1),
                "cpu_ms_per_frame": round(statistics.median(cpu) / per_clip, 1),
                "wall_ms_per_clip": round(statistics.median(wall), 1),
                "kib_per_clip": round(statistics.median(size) / 1024, 1),
                "cpu_share_of_realtime": round(statistics.median(cpu) / (per_clip / fps * 1e3), 2),
            }
        # the console's side: an mp4v clip as a device uploads it, transcoded once for the browser
        costs = []
        for clip in clips:
            source = folder / "device.mp4"
            _encode(clip, "mp4v", ".mp4", fps, folder)
            (folder / "clip.mp4").replace(source)
            cpu0, wall0 = time.process_time(), time.perf_counter()
            transcode_to_webm(source, folder / "browser.webm")
            costs.append(((time.process_time() - cpu0) * 1e3, (time.perf_counter() - wall0) * 1e3,
                          (folder / "browser.webm").stat().st_size))
        report["console_transcode_mp4v_to_vp8"] = {
            "cpu_ms_per_clip": round(statistics.median(c[0] for c in costs), 1),
            "wall_ms_per_clip": round(statistics.median(c[1] for c in costs), 1),
            "kib_per_clip": round(statistics.median(c[2] for c in costs) / 1024, 1),
        }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=Path("fixtures/videos/demo.mp4"))
    parser.add_argument("--fps", type=float, default=20.0, help="the camera's frame rate (the Pi camera: 20)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(measure(args.video, args.fps, args.repeat), indent=2))


if __name__ == "__main__":
    main()
