"""The same-face check's scores on the fixture videos, to set pi_app.visits.same_face.MATCH_THRESHOLD.

    python scripts/bench/same_face.py --videos DIR [--smoke]

DIR holds videos made by scripts/make_fixture_videos.py (--hard: hard.{mp4,json}; --identity: identity-*.{mp4,json}).
Every 0.5 s clip's middle frame (JPEG-encoded as the device sends it) is a reference: its faces are found by the
recognizer's detector (MTCNN, as the API's boxes are); each later clip up to 2 s after it is checked against it.
A pair is `same` when both clips lie in one shot of the manifest with the same people and no walker is still
stepping in, `changed` when the people on screen differ (someone left, came, or took the place: the check must fail
there). Printed: the correlation per pair (the lowest of its faces) and the motion outside the faces, per kind;
written to bench-results/same_face.json. --smoke: the demo video (fixtures/videos/demo.mp4), no lfw-dev.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from facegate_cli.console.clip_media import decode_frames
from facegate_rigs.bench_common import SMOKE_HELP, machine, save
from facegate_rigs.paths import DEMO_VIDEO
from pi_app.recording.image_encoding import encode_jpeg
from pi_app.tools.video_manifest import VideoManifest
from pi_app.visits.evidence import Box
from pi_app.visits.same_face import MATCH_THRESHOLD, reference_of, same_faces
from recognizer.image_decode import decode_image
from recognizer.pipeline import FacePipeline

CLIP_S = 0.5
STEP_IN = 0.4  # a walker steps in during the first 40 % of its shot (make_fixture_videos.Walker.place)


def clip_frames(video: Path, fps: float) -> list[np.ndarray]:
    """Each 0.5 s clip's middle frame, as the device would send it (JPEG, decoded again)."""
    frames, _ = decode_frames(video)
    per_clip = int(round(fps * CLIP_S))
    middle = [frames[i + per_clip // 2] for i in range(0, len(frames) - per_clip + 1, per_clip)]
    return [decode_image(encode_jpeg(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))) for bgr in middle]


def shot_of(manifest: VideoManifest, t: float) -> tuple[int, bool] | None:
    """(segment index, settled: past the stepping in) of the clip starting at `t`; None across a change."""
    for i, s in enumerate(manifest.segments):
        if s.start <= t + 1e-6 and t + CLIP_S <= s.end + 1e-6:
            return i, t >= s.start + STEP_IN * (s.end - s.start)
    return None


def _pair_kind(manifest: VideoManifest, shot: tuple[int, bool], later: tuple[int, bool] | None) -> str:
    """same (one shot, both past stepping in), stepping_in (one shot, not both settled), next_shot (the same labels
    in another shot: another photo or a new step-in) or changed (other people on screen)."""
    if later is None:
        return "changed"
    people = manifest.segments[shot[0]].people
    if later[0] == shot[0]:
        return "same" if shot[1] and later[1] else "stepping_in"
    return "next_shot" if manifest.segments[later[0]].people == people else "changed"


def measure(manifest: VideoManifest, pipeline: FacePipeline) -> list[dict]:
    """Every (reference clip, clip 0.5-2 s later) pair of the video: its kind, lowest face correlation, motion."""
    frames = clip_frames(manifest.video, manifest.fps)
    pairs = []
    for i, rgb in enumerate(frames):
        shot = shot_of(manifest, i * CLIP_S)
        if shot is None or not manifest.segments[shot[0]].people:
            continue
        boxes = tuple(Box(*map(float, d.box[:4])) for d in pipeline.detector.detect(rgb))
        if not boxes:
            continue
        reference = reference_of(rgb, boxes)
        for k in range(1, 5):
            if i + k >= len(frames):
                break
            later = shot_of(manifest, (i + k) * CLIP_S)
            kind = _pair_kind(manifest, shot, later)
            result = same_faces(reference, frames[i + k], threshold=-2.0, other_motion=2.0)
            pairs.append({"kind": kind, "score": min(result.scores) if result.scores else None,
                          "motion": result.motion, "reason": result.reason, "faces": len(boxes), "gap": k})
    return pairs


def summary(pairs: list[dict], threshold: float) -> dict:
    """Per kind of pair: how many, the correlation's spread, the motion's, and how many pass at `threshold`."""
    out = {}
    for kind in sorted({p["kind"] for p in pairs}):
        scores = np.array([p["score"] for p in pairs if p["kind"] == kind and p["score"] is not None])
        motion = np.array([p["motion"] for p in pairs if p["kind"] == kind and p["motion"] is not None])
        q = lambda xs, f: round(float(np.quantile(xs, f)), 3) if len(xs) else None  # noqa: E731
        out[kind] = {"pairs": sum(1 for p in pairs if p["kind"] == kind), "scored": len(scores),
                     "score_min": q(scores, 0), "score_p5": q(scores, 0.05), "score_median": q(scores, 0.5),
                     "score_p95": q(scores, 0.95), "score_max": q(scores, 1),
                     "motion_median": q(motion, 0.5), "motion_p95": q(motion, 0.95),
                     "passes_at_threshold": int(sum(1 for p in pairs if p["kind"] == kind and p["score"] is not None
                                                    and p["score"] >= threshold and p["motion"] is not None
                                                    and p["motion"] < 0.002))}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=Path, help="folder of fixture videos and their manifests (*.json)")
    parser.add_argument("--threshold", type=float, default=MATCH_THRESHOLD)
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP + "; the demo video")
    args = parser.parse_args()
    if args.videos is None and not args.smoke:
        parser.error("--videos DIR (or --smoke)")
    manifests = [DEMO_VIDEO.with_suffix(".json")] if args.smoke else sorted(args.videos.glob("*.json"))
    pipeline = FacePipeline.load("dlib")
    every, per_video = [], {}
    for path in manifests:
        pairs = measure(VideoManifest.read(path), pipeline)
        every += pairs
        per_video[path.stem] = summary(pairs, args.threshold)
        print(json.dumps({"video": path.stem, **per_video[path.stem]}), flush=True)
    result = {"machine": machine(), "threshold": args.threshold, "videos": per_video,
              "all": summary(every, args.threshold)}
    saved = save("same_face", result, args.smoke)
    print(json.dumps({"all": result["all"], "saved": str(saved)}))


if __name__ == "__main__":
    main()
