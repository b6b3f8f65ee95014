"""Identity-aware visits, measured: each identity case of scripts/make_fixture_videos.py (people following each
other at one spot) played through the real device app (recorder, frame choice, workers, visit tracker) with the
real recognizer pipeline in process (MTCNN + dlib ResNet + the open-set classifier, every lfw-dev person enrolled
from training/), scored MOT-style against the case's manifest: visits per person, merges, splits, identity
switches, wrong decisions. Both groupings are run on the same answers' videos: `place` (time and box only, as
before issue 19) and `identity` (with the face descriptors).

    python scripts/bench/visits.py [--cases known_then_known ...] [--hard] [--smoke]

Writes bench-results/visits-<UTC stamp>.json. Needs ../shared/datasets/lfw-dev (FACEGATE_LFW_DEV).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from facegate_contract.device_events import AnyDeviceEvent
from facegate_contract.wire import ImageSize, RecognizeAnswer
from facegate_rigs.bench_common import SMOKE_HELP, machine, save
from facegate_rigs.paths import LFW_DEV, ROOT
from pi_app.camera.video_file import VideoFileCamera
from pi_app.runtime.device_app import DeviceApp, DeviceConfig
from pi_app.runtime.events import read_events
from pi_app.recording.motion_gate import MotionPolicy
from pi_app.transport.recognize_client import Recognition
from pi_app.tools.run_check import check_identity, check_run, clip_offsets
from pi_app.tools.video_manifest import VideoManifest
from pi_app.visits import VisitConfig
from pi_app.visits.appearance import similarity
from pi_app.visits.tracking_skip import TrackingPolicy
from recognizer.classify.open_set import OpenSetClassifier
from recognizer.faces import RecognizedFace
from recognizer.image_decode import decode_image
from recognizer.pipeline import FacePipeline

GROUPINGS = {"place": VisitConfig(split_clips=10**6), "identity": VisitConfig()}


def enrolled(pipeline: FacePipeline, data: Path, photos: int | None = None) -> OpenSetClassifier:
    """Every lfw-dev person enrolled from their training photos (the first `photos` of each), as `facegate enroll`
    does."""
    classifier = OpenSetClassifier.empty("dlib", pipeline.embedder.default_threshold)
    for person in sorted(p for p in (data / "training").iterdir() if p.is_dir()):
        vectors = []
        for photo in sorted(person.glob("*.jpg"))[:photos]:
            rgb = cv2.cvtColor(cv2.imread(str(photo)), cv2.COLOR_BGR2RGB)
            found = pipeline.detector.detect(rgb)
            if found:
                vectors.append(pipeline.embedder.embed(rgb, [max(found, key=lambda d: d.area)])[0])
        classifier = classifier.with_person(person.name, np.stack(vectors))
    return classifier


@dataclass
class LocalRecognizer:
    """The recognizer's answer without the network: pipeline, classifier, the wire's Face (descriptor included,
    or left out to play an older recognizer)."""

    pipeline: FacePipeline
    classifier: OpenSetClassifier
    descriptors: bool = True
    server_ms: list[float] = field(default_factory=list)
    seen: list[tuple[str, float, bytes]] = field(default_factory=list)  # (clip key, face centre x, descriptor)

    def recognize(self, frame: bytes, content_type: str = "image/jpeg", clip_key: str = "") -> Recognition:
        t0 = time.perf_counter()
        rgb = decode_image(frame)
        result = self.pipeline.run(rgb, self.classifier)
        descriptors = result.descriptors if self.descriptors else [None] * len(result.detections)
        faces = [RecognizedFace(d, i, descriptor=c).to_wire()
                 for d, i, c in zip(result.detections, result.identities, descriptors)]
        answer = RecognizeAnswer(faces=faces, model_version="bench", backend="dlib",
                                 image=ImageSize(width=rgb.shape[1], height=rgb.shape[0]),
                                 timings_ms={"total": (time.perf_counter() - t0) * 1e3})
        self.server_ms.append((time.perf_counter() - t0) * 1e3)
        self.seen += [(clip_key, (d.box[0] + d.box[2]) / 2, c) for d, c in zip(result.detections, descriptors) if c]
        return Recognition(answer, latency_ms=self.server_ms[-1])


class NoUpload:
    def upload(self, path: Path, key: str, metadata: dict[str, str]) -> None:
        """Clips stay on the device: the bench measures visits, not transfers."""


def play(manifest: VideoManifest, recognizer: LocalRecognizer, visits: VisitConfig,
         work: Path, track: bool = True) -> list[AnyDeviceEvent]:
    """The case's video through the device app (`track`: the tracking skip of decided visits, the device's default);
    its events."""
    config = DeviceConfig(device_id="bench-door", spool_dir=work / "spool", events_path=work / "events.jsonl",
                          drain_timeout_s=600.0, stale_after_s=3600.0, stream_clock=True, visits=visits,
                          motion=MotionPolicy(enabled=False), workers=1,  # one worker: answers in order, repeatable
                          tracking=TrackingPolicy(enabled=track))
    summary = DeviceApp(config, VideoFileCamera(manifest.video, realtime=False), recognizer, NoUpload()).run()
    assert summary["pending"] == 0, summary
    return read_events(config.events_path)


def resemblances(seen: list[tuple[str, float, bytes]], events: list[AnyDeviceEvent],
                 manifest: VideoManifest) -> dict:
    """Descriptor cosines between the run's faces: of one person (two clips of the same known person, or of one
    stranger's visit) and of two people, to set VisitConfig.same_face."""
    offsets = clip_offsets(events)
    people = []
    for key, x, descriptor in seen:
        middle = offsets.get(key.rsplit("/", 1)[-1].removesuffix(".mp4"), -1.0) + 0.25
        there = [i for i, v in enumerate(manifest.visits) if v.start <= middle < v.end]
        if there:
            visit = min(there, key=lambda i: abs((manifest.visits[i].x or 0) - x))
            expected = manifest.visits[visit].expected  # a known person is one person in all their visits
            people.append((expected if expected != "unknown" else f"stranger {visit}", descriptor))
    same, other = [], []
    for n, (a, da) in enumerate(people):
        for b, db in people[n + 1:]:
            (same if a == b else other).append(similarity(da, db))
    figure = lambda xs, q: round(float(np.quantile(xs, q)), 3) if xs else None
    return {"same_person": {"pairs": len(same), "p5": figure(same, 0.05), "median": figure(same, 0.5)},
            "two_people": {"pairs": len(other), "median": figure(other, 0.5), "p95": figure(other, 0.95),
                           "max": figure(other, 1.0)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lfw", type=Path, default=LFW_DEV)
    parser.add_argument("--cases", nargs="*", default=None, help="identity case names (default: all)")
    parser.add_argument("--hard", action="store_true", help="also the hard doorway (131 s)")
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP + "; one case")
    parser.add_argument("--no-track-decided", action="store_true",
                        help="recognise every clip (no tracking skip of decided visits: the device's default is on)")
    args = parser.parse_args()
    if args.smoke:
        args.cases, args.hard = ["known_then_known"], False
    if not (args.lfw / "training").is_dir():
        sys.exit(f"no lfw-dev at {args.lfw}: set FACEGATE_LFW_DEV")
    with tempfile.TemporaryDirectory() as tmp:
        videos = Path(tmp) / "videos"
        make = [sys.executable, str(ROOT / "scripts" / "make_fixture_videos.py"), "--from-lfw", str(args.lfw),
                "--out", str(videos)]
        subprocess.run([*make, "--identity"], check=True, capture_output=True)
        manifests = {p.stem.removeprefix("identity-"): VideoManifest.read(p) for p in sorted(videos.glob("identity-*.json"))}
        if args.hard:
            subprocess.run([*make, "--hard"], check=True, capture_output=True)
            manifests["hard_doorway"] = VideoManifest.read(videos / "hard.json")
        manifests = {k: v for k, v in manifests.items() if not args.cases or k in args.cases or k == "hard_doorway"}
        pipeline = FacePipeline.load("dlib")
        classifier = enrolled(pipeline, args.lfw, photos=3 if args.smoke else None)
        results: dict[str, dict] = {}
        for case, manifest in manifests.items():
            results[case] = {}
            for grouping, config in GROUPINGS.items():
                recognizer = LocalRecognizer(pipeline, classifier, descriptors=grouping == "identity")
                events = play(manifest, recognizer, config, Path(tmp) / case / grouping, not args.no_track_decided)
                clips = check_run(events, manifest, 0.5)
                scored = check_identity(events, manifest, 0.5)
                results[case][grouping] = {**scored.to_json(), "clips_answered_right": sum(c.ok for c in clips.clips),
                                           "clips": len(clips.clips),
                                           "tracked": sum(1 for c in clips.clips if c.status == "tracked")}
                if recognizer.seen:
                    results[case][grouping]["descriptor_cosine"] = resemblances(recognizer.seen, events, manifest)
                print(json.dumps({"case": case, "grouping": grouping, **results[case][grouping]}), flush=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    totals = {g: {k: sum(r[g][k] for r in results.values()) for k in
                  ("people", "visits", "merges", "splits", "identity_switches", "wrong_decisions")} for g in GROUPINGS}
    path = save(f"visits-{stamp}", {"when": stamp, "machine": machine(), "command": " ".join(sys.argv),
                                    "enrolled": sorted(classifier.labels), "cases": results, "totals": totals}, args.smoke)
    print(json.dumps({"totals": totals, "saved": str(path)}))


if __name__ == "__main__":
    main()
