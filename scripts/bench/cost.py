"""What one door camera costs per day on AWS: the old pipeline (every clip uploaded alone, every clip of an open
visit recognised) and the new default, with the same decisions, alerts and door openings.

    .venv/bin/python scripts/bench/cost.py [--empty 0.9] [--endpoint-url http://localhost:4566] [--smoke]

Measured here, in one run: the hard doorway (lfw-dev faces; scripts/make_fixture_videos.py --hard) played in real
time (as a camera gives it, so which clips are answered does not depend on how far a replay runs ahead) through
the real device app with its actions against the local stack twice, motion gate on both times: the old pipeline
(`--upload all --no-track-decided`, and every clip of an open visit recognised, through a REST API as before) and the
new default (through the HTTP API deploy makes now; a visit's clips
uploaded in one bundle a visit, the empty doorway kept on the device, no still clip sent after one that showed
nobody, and a decided visit's same face tracked instead of sent). Per run: which clips are sent for recognition,
tracked instead, and uploaded (empty stretch, beside a visit, or someone at the door), the recognizer's own time per
frame (what Lambda bills: measured again for the frames each run sent, one at a time once both replays are over, as
the replay shares 2 cores between the device, the emulator and the function), clip sizes, the uploads the device actually made (a clip alone or a visit's bundle: one
upload URL request and one S3 PUT each), the visit reports it sent (`visit_reported`), and the visits' decisions, the alerts received and the door
openings: these must be the same in both runs; the functions' log bytes per call (what the emulator logged, less its
runtime emulator's own lines) and the size of each visit item. And the control function's time per upload URL, in
process. Then a
scripted day: 24 h of 0.5 s clips, `--empty` of them an empty doorway (the busy doorway), a quiet house (99 % empty)
and a busy shop (50 %), at AWS list prices (us-east-1, as below: edit PRICES for your region) and the functions'
deployed memory sizes.
Writes bench-results/cost.json and prints the table. Needs the docker engine, the emulator and lfw-dev (--smoke:
the 9 s demo video with the demo person enrolled instead, no lfw-dev).
"""
from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import sys
import time
from pathlib import Path

from facegate_contract import UPLOAD_GRANT_EXPIRES_S
from facegate_contract.wire import VisitReport
from facegate_rigs.bench_common import SMOKE_HELP, machine, save
from facegate_rigs.doorway import enrol_and_build, run_doorway
from facegate_rigs.paths import DEMO_VIDEO, LFW_DEV
from facegate_rigs.stack import bench_stack
from pi_app.recording.motion_gate import MotionPolicy
from pi_app.recording.spool import FRAME_FILE
from pi_app.recording.upload_policy import UploadMode, UploadPolicy
from pi_app.runtime.footage import DEFAULT_POLL_S
from pi_app.tools.video_manifest import VideoManifest
from pi_app.transport.api_clip_transfers import GRANT_RENEW_BEFORE_S
from pi_app.transport.visit_reporter import DEFAULT_HOLD_S
from services.recognizer_function import RECOGNIZER_MEMORY_MB
from services.stack import CONTROL_MEMORY_MB
from services.target import Target

CLIP_S = 0.5
BESIDE_VISIT_S = 1.0  # an empty clip this close to someone on screen belongs to their arrival or departure
QUIET_HOUSE, BUSY_SHOP = 0.99, 0.5  # share of the day the doorway is empty
DAY_CLIPS = int(24 * 3600 / CLIP_S)
RETENTION_DAYS = 30
LOG_RETENTION_DAYS = 14  # services/log_group.py
LOG_EVENT_OVERHEAD_B = 26  # CloudWatch Logs counts each event's message plus 26 bytes

# AWS list prices, us-east-1 (public price pages; check them for your region and date).
PRICES = {
    "lambda_gb_s_x86": 0.0000166667,  # per GB-second
    "lambda_request": 0.20 / 1e6,
    "apigw_rest_request": 3.50 / 1e6,  # REST API, first 333 M requests a month (the old pipeline's API)
    "apigw_http_request": 1.00 / 1e6,  # HTTP API, first 300 M a month, per 512 KB (a frame is ~50 KB): today's API
    "s3_put": 0.005 / 1000,  # PUT, COPY, POST, LIST
    "s3_gb_month": 0.023,  # S3 Standard, first 50 TB
    "dynamodb_write": 0.625 / 1e6,  # on-demand write request unit (1 KB of item)
    "dynamodb_read": 0.125 / 1e6,  # on-demand read request unit (an eventually consistent GetItem is half of one)
    "logs_gb_ingested": 0.50,  # CloudWatch Logs, standard class
    "logs_gb_month": 0.03,  # CloudWatch Logs storage (billed compressed: this is an upper bound)
    "rekognition_image": 0.001,  # SearchFacesByImage / DetectFaces, first 1 M images a month
}


# The old pipeline: every clip uploaded, every clip of an open visit recognised, every visit report sent at once,
# through a REST API. The new one: the defaults, through the HTTP API deploy makes.
PIPELINES: dict[str, tuple[UploadMode, MotionPolicy, bool, float]] = {  # (upload, motion gate, tracking, report hold)
    "old": ("all", MotionPolicy(still_after_empty=False), False, 0.0),
    "new": (UploadPolicy().mode, MotionPolicy(), True, DEFAULT_HOLD_S),
}
API_PRICE = {"old": PRICES["apigw_rest_request"], "new": PRICES["apigw_http_request"]}


def _run(upload: UploadMode, motion: MotionPolicy, track: bool, hold_s: float, device_file: Path,
         manifest: VideoManifest, work: Path) -> dict:
    """One replay of the doorway with the upload policy `upload`, the motion gate `motion`, the tracking skip of
    decided visits on or off (`track`) and visit reports held `hold_s` for the visit's final one: what was sent,
    tracked and uploaded, for whom, what it took, and what the device decided and did."""
    from facegate_contract.device_events import (BundleUploaded, ClipKept, ClipRecognition, ClipUploaded, VisitAction,
                                                 VisitEnded, events_of)
    from pi_app.tools.run_check import clip_offsets

    events, alerts = run_doorway(device_file, manifest, work, motion, upload=UploadPolicy(mode=upload), realtime=True,
                                 track=track, report_hold_s=hold_s, keep_done=True)

    offsets = clip_offsets(events)
    recognitions = events_of(events, ClipRecognition)
    sent = {e.clip: e for e in recognitions if e.status in ("recognised", "unknown", "no_face")}
    tracked = {e.clip for e in recognitions if e.status == "tracked"}
    empty = {c for c, o in offsets.items() if o < manifest.duration_s and manifest.people_at(o, CLIP_S) == ()}
    occupied = set(offsets) - empty
    # Motion in an empty clip next to someone's arrival or departure comes with visits, not with the empty hours.
    beside_visit = {c for c in empty
                    if manifest.people_at(max(0.0, offsets[c] - BESIDE_VISIT_S), CLIP_S + 2 * BESIDE_VISIT_S) != ()}
    uploads = events_of(events, ClipUploaded)
    bundles = events_of(events, BundleUploaded)
    uploaded = {u.clip for u in uploads} | {clip for b in bundles for clip in b.clips}  # in S3, alone or bundled
    stored_bytes = sum(u.bytes for u in uploads) + sum(b.bytes for b in bundles)
    visits = events_of(events, VisitEnded)
    reports, late = reports_sent(events)
    # A report is one UpdateItem of its visit's item: a write unit per KB of the item (its final report is the largest).
    report_units = [math.ceil(visit_item_bytes(v.report(), device_file, bundled=upload != "all") / 1024)
                    for v in visits]
    return {
        "upload": upload, "track_decided": track, "clips": len(offsets), "empty_clips": len(empty),
        "occupied_clips": len(occupied), "tracked_occupied": len(occupied & tracked),
        "empty_clips_beside_visit": len(beside_visit),
        "sent_empty": sum(1 for c in empty if c in sent), "sent_occupied": sum(1 for c in occupied if c in sent),
        "sent_empty_beside_visit": sum(1 for c in beside_visit if c in sent),
        "server_ms": [e.server_ms for e in sent.values() if e.server_ms is not None],
        "sent_frames": [str(work / "spool" / clip / FRAME_FILE) for clip in sorted(sent)
                        if (work / "spool" / clip / FRAME_FILE).is_file()],
        "faces": sum(len(e.faces) for e in sent.values()),
        "uploaded_empty": len(empty & uploaded), "uploaded_occupied": len(occupied & uploaded),
        "kept": len({k.clip for k in events_of(events, ClipKept)} - uploaded),
        # What the device asked for: one upload URL and one PUT per clip uploaded alone and per bundle.
        "alone_uploads": len(uploads), "bundles": len(bundles), "puts": len(uploads) + len(bundles),
        # Each kind of upload (a bundle; a clip alone, whose metadata names follow its recognition) has its own
        # upload grant, renewed every 10 minutes (an upper bound: two statuses may share the same names).
        "grant_kinds": (1 if bundles else 0) + len({u.recognition for u in uploads}),
        "clip_bytes": stored_bytes / len(uploaded) if uploaded else 0.0,  # a bundle's bytes shared by its clips
        "visits": len(visits),
        "report_hold_s": hold_s, "visit_reports": reports, "visit_reports_after_log": late,
        "report_write_units": statistics.fmean(report_units) if report_units else 1.0,
        "decisions": sorted(v.decision for v in visits),
        "alerts": sorted(f"{a.get('rule')}:{a.get('name')}" for a in alerts),
        "clip_links": sum(1 for a in alerts if a.get("clip_url")),  # each alert sent signed its link: POST /clip-links
        "door_openings": sum(1 for a in events_of(events, VisitAction) if a.door),
    }


def dynamodb_size(value: object) -> int:
    """An attribute value's size as DynamoDB bills it: UTF-8 strings, numbers ~1 byte per 2 digits + 1, 3 bytes
    plus 1 per element for lists and maps (names counted as strings)."""
    from decimal import Decimal

    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, (int, float, Decimal)):
        return len(str(value).strip("-").replace(".", "").lstrip("0")) // 2 + 2
    if isinstance(value, dict):
        return 3 + sum(1 + dynamodb_size(k) + dynamodb_size(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return 3 + sum(1 + dynamodb_size(v) for v in value)
    raise TypeError(f"no DynamoDB size for {type(value).__name__}")


def visit_item_bytes(report: VisitReport, device_file: Path, bundled: bool) -> int:
    """The size of the visit item the control function writes for `report` (its own code), naming the visit's
    bundle when its clips are `bundled`; the attributes a report no longer has are not written."""
    import msgspec

    from facegate_contract import DeviceFile, bundle_key
    from recognizer.control.visit_reports import visit_item, without_nones

    device = DeviceFile.read(device_file).device_id
    if bundled:
        report = msgspec.structs.replace(report, bundle=bundle_key(device, report.visit_id))
    item = {name: without_nones(value) for name, value in visit_item(device, report, int(time.time())).items()
            if value is not None}
    return dynamodb_size(item) - 3  # the item itself is no map value


def recognizer_ms_alone(recognize_url: str, api_key: str, frames: list[str], repeats: int = 3) -> list[float]:
    """The recognizer's own time for each of `frames`, sent again one at a time with nothing else running (the replay
    shares this machine's 2 cores between the device, the emulator and the function; Lambda gives a 1,769 MB
    function a vCPU of its own): the median of `repeats` answers' `total` timing per frame, what Lambda bills (one
    slow answer of a shared machine is its noise, not the frame's cost)."""
    import requests

    times = []
    with requests.Session() as session:
        for frame in frames:
            body, each = Path(frame).read_bytes(), []
            for _ in range(repeats):
                answer = session.post(recognize_url, data=body, timeout=60,
                                      headers={"x-api-key": api_key, "Content-Type": "image/jpeg"})
                answer.raise_for_status()
                each.append(float(answer.json()["timings_ms"]["total"]))
            times.append(statistics.median(each))
    return times


# The emulator's runtime interface emulator logs its own lines ("... [INFO] (rapid) INVOKE START ..."); AWS does not.
EMULATOR_ONLY_LINE = re.compile(r"^\d\d \w{3} \d{4} [\d:,]+ \[\w+\] \(rapid\) ")


def function_logs(target: Target, prefix: str) -> tuple[int, int]:
    """(bytes CloudWatch Logs would bill, invocations) the stack's two functions have logged so far: every line of
    theirs (the runtime's START / END / REPORT lines and the handlers' own), as the emulator keeps them like AWS."""
    from services.names import StackNames

    logs = target.client("logs")
    names = StackNames.for_target(target, prefix)
    size = invocations = 0
    for group in (names.log_group, names.control_log_group):
        try:
            pages = logs.get_paginator("filter_log_events").paginate(logGroupName=group)
            for page in pages:
                for event in page.get("events", []):
                    if EMULATOR_ONLY_LINE.match(event["message"]):
                        continue
                    size += len(event["message"].encode("utf-8")) + LOG_EVENT_OVERHEAD_B
                    invocations += event["message"].startswith("START RequestId:")
        except logs.exceptions.ResourceNotFoundException:
            continue
    return size, invocations


def reports_sent(events: list) -> tuple[int, int]:
    """The visit reports a run sent (POST /visits the API took): its `visit_reported` events, plus each ended visit
    whose final report has none (sent after the run's event log closed, for a visit ended at shutdown: run_doorway
    checks none is left pending, so it went); (reports, of them without an event)."""
    from facegate_contract.device_events import VisitEnded, VisitReported, events_of

    reported = events_of(events, VisitReported)
    late = len({v.visit_id for v in events_of(events, VisitEnded)} - {r.visit_id for r in reported if r.ended})
    return len(reported) + late, late


def control_ms(samples: int = 200) -> float:
    """The control function's own time for one upload URL (presigning is local CPU work), median in ms."""
    import boto3
    from botocore.config import Config

    from facegate_contract import api_key_hash
    from recognizer.control.clip_transfers import ClipTransfers
    from recognizer.control.service import ControlService
    from recognizer.api.device_identity import DeviceDirectory

    class Devices:
        def get_item(self, Key: dict) -> dict:  # noqa: N803 - boto3's spelling
            return {"Item": {"key_hash": api_key_hash("k"), "device_id": "door-1"}}

    presigner = lambda endpoint: boto3.client(  # noqa: E731
        "s3", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b",
        config=Config(signature_version="s3v4"))
    service = ControlService(ClipTransfers("bucket", presigner), visits=None,  # type: ignore[arg-type]
                             devices=DeviceDirectory(Devices()))
    event = {"httpMethod": "POST", "resource": "/uploads", "path": "/uploads", "isBase64Encoded": False,
             "headers": {"x-api-key": "k", "Content-Type": "application/json"},
             "body": json.dumps({"clip": "20261129T101010.500Z-000007", "size": 22000,
                                 "metadata": {"recognition": "unknown"}})}
    answer = service.handle(event)
    if answer["statusCode"] != 200:  # time a granted URL, not a refusal
        raise RuntimeError(f"the control function refused the upload: {answer['body'][:300]}")
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        service.handle(event)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


# Upload grants a day for one kind of upload in use all day: each is dropped GRANT_RENEW_BEFORE_S before it expires.
GRANTS_A_KIND_DAY = 86_400 / (UPLOAD_GRANT_EXPIRES_S - GRANT_RENEW_BEFORE_S)


def day_cost(run: dict, empty_share: float, control_each_ms: float, api_request: float, polls: float = 0.0) -> dict:
    """Per device-day: requests and dollars, for a day of DAY_CLIPS clips, `empty_share` of them empty.

    What is sent scales from the run: its share of occupied clips recognised, its empty clips recognised beside a
    visit (motion of an arrival or a departure) per visit, and the other empty clips it recognised with the length
    of the empty day. What is uploaded: every clip (`all`), or (`visits`) the run's share of occupied clips plus
    its empty clips uploaded per visit (the margin before a visit and its tail: they come with visits, not with the
    length of the empty day). What it takes to upload them is what the device asked for: an upload URL and a PUT
    per clip under `all`; under `visits` the run's uploads per visit (one bundle a visit, and the clips alerts
    needed at once, alone), and an upload grant every 10 minutes per kind of upload the run made
    (GRANTS_A_KIND_DAY), each an API request at `api_request` dollars, and `polls` a day for footage requests.
    Lambda bills each request's own duration: the run's mean recognizer time per frame sent (an empty frame is cheaper
    than a face), at the functions' deployed memory sizes. DynamoDB: a write unit per sighting (one per face) and the
    run's write units per visit report (the visit item's size); reads at most one device lookup per request and one
    person lookup per face, eventually consistent. CloudWatch Logs: the run's logged bytes per invocation.
    """
    empty_clips, occupied_clips = DAY_CLIPS * empty_share, DAY_CLIPS * (1 - empty_share)
    visits = occupied_clips / max(1.0, run["occupied_clips"] / max(1, run["visits"]))
    # Empty clips sent: those beside a visit come per visit; the others with the length of the empty day.
    beside = visits * run["empty_clips_beside_visit"] / max(1, run["visits"])
    far_empty_clips = run["empty_clips"] - run["empty_clips_beside_visit"]
    sent = (max(0.0, empty_clips - beside) * (run["sent_empty"] - run["sent_empty_beside_visit"]) / max(1, far_empty_clips)
            + visits * run["sent_empty_beside_visit"] / max(1, run["visits"])
            + occupied_clips * run["sent_occupied"] / max(1, run["occupied_clips"]))
    uploaded = (float(DAY_CLIPS) if run["upload"] == "all" else
                occupied_clips * run["uploaded_occupied"] / max(1, run["occupied_clips"])
                + visits * run["uploaded_empty"] / max(1, run["visits"]))
    puts = float(DAY_CLIPS) if run["upload"] == "all" else visits * run["puts"] / max(1, run["visits"])
    # The old pipeline asked for an upload URL per PUT; the new one for a grant per kind of upload every 10 minutes
    # (a run from before grants has no `grant_kinds`: a URL per PUT).
    kinds = run.get("grant_kinds")
    upload_asks = puts if run["upload"] == "all" or kinds is None else min(puts, kinds * GRANTS_A_KIND_DAY)
    reports = visits * run["visit_reports"] / max(1, run["visits"])
    links = visits * run.get("clip_links", 0) / max(1, run["visits"])
    # Upload URLs or grants, the visit reports, an alert's clip link, the footage polls.
    control_calls = upload_asks + reports + links + polls
    faces = sent * run["faces"] / max(1, run["sent_empty"] + run["sent_occupied"])
    times = run.get("server_ms_alone") or run["server_ms"]  # the quiet re-measure where there is one
    recognize_ms = statistics.fmean(times) if times else 0.0
    gb_s = (sent * recognize_ms / 1000 * RECOGNIZER_MEMORY_MB / 1024
            + control_calls * max(1.0, control_each_ms) / 1000 * CONTROL_MEMORY_MB / 1024)
    storage_gb_month = uploaded * run["clip_bytes"] / 1e9 * RETENTION_DAYS / 30.4
    dollars = {
        "lambda": gb_s * PRICES["lambda_gb_s_x86"] + (sent + control_calls) * PRICES["lambda_request"],
        "api_gateway": (sent + control_calls) * api_request,
        "s3_puts": puts * PRICES["s3_put"],
        "s3_storage": storage_gb_month * PRICES["s3_gb_month"],
        "dynamodb": ((faces + reports * run.get("report_write_units", 1.0)) * PRICES["dynamodb_write"]
                     + (sent + control_calls + faces) * 0.5 * PRICES["dynamodb_read"]),
        "cloudwatch_logs": (sent + control_calls) * run.get("log_bytes_per_call", 0.0) / 1e9
                           * (PRICES["logs_gb_ingested"] + PRICES["logs_gb_month"] * LOG_RETENTION_DAYS / 30.4),
    }
    dollars["total"] = sum(dollars.values())
    return {"frames_sent": round(sent), "clips_uploaded": round(uploaded), "puts": round(puts),
            "recognize_ms_mean": round(recognize_ms, 1),
            "visits": round(visits), "control_calls": round(control_calls), "upload_asks": round(upload_asks),
            "lambda_gb_s": round(gb_s, 1), "usd": {k: round(v, 4) for k, v in dollars.items()},
            "rekognition_usd_same_frames": round(sent * PRICES["rekognition_image"], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--empty", type=float, default=0.9, help="share of the day the doorway is empty")
    parser.add_argument("--endpoint-url", default="http://localhost:4566")
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP + "; the demo video, no lfw-dev")
    args = parser.parse_args()
    if not args.smoke and not (LFW_DEV / "training").is_dir():
        sys.exit(f"needs the lfw-dev dataset at {LFW_DEV}")

    with bench_stack(args.endpoint_url, "fgcost") as bench:
        if args.smoke:
            bench.enrol_fixture_people()
            manifest = VideoManifest.read(DEMO_VIDEO.with_suffix(".json"))
        else:
            manifest = enrol_and_build(LFW_DEV, bench.outputs_path, bench.work / "video")
        runs = {}
        for pipeline, (upload, motion, track, hold_s) in PIPELINES.items():
            device = f"cost-{upload}-{int(time.time())}"
            logged_before = function_logs(bench.target, bench.prefix)
            runs[pipeline] = _run(upload, motion, track, hold_s, bench.device(device), manifest, bench.work / device)
            logged = [after - before for after, before in zip(function_logs(bench.target, bench.prefix),
                                                                  logged_before)]
            runs[pipeline].update(log_bytes=logged[0], log_invocations=logged[1],
                                  log_bytes_per_call=logged[0] / max(1, logged[1]))
        for run in runs.values():  # after both replays: nothing else is running
            run["server_ms_alone"] = recognizer_ms_alone(bench.outputs.recognize_url, bench.outputs.api_key,
                                                         run.pop("sent_frames"))
    control_each = control_ms()
    old, new = runs["old"], runs["new"]
    polls = 24 * 3600 / DEFAULT_POLL_S  # the new device asks for the console's footage requests around the clock
    day = {"old_busy_doorway": day_cost(old, args.empty, control_each, API_PRICE["old"]),
           "new_busy_doorway": day_cost(new, args.empty, control_each, API_PRICE["new"], polls),
           "new_quiet_house": day_cost(new, QUIET_HOUSE, control_each, API_PRICE["new"], polls),
           "new_busy_shop": day_cost(new, BUSY_SHOP, control_each, API_PRICE["new"], polls),
           "old_busy_shop": day_cost(old, BUSY_SHOP, control_each, API_PRICE["old"])}
    same = {what: old[what] == new[what] for what in ("decisions", "alerts", "door_openings")}
    result = {"machine": machine(), "empty_share": args.empty, "quiet_house_empty_share": QUIET_HOUSE,
              "busy_shop_empty_share": BUSY_SHOP, "day_clips": DAY_CLIPS, "prices": PRICES,
              "control_ms_median": round(control_each, 2),
              "runs": {k: {**v, "server_ms": len(v["server_ms"]), "server_ms_alone": len(v["server_ms_alone"]),
                           "server_ms_in_replay_mean": _mean(v["server_ms"]),
                           "server_ms_alone_mean": _mean(v["server_ms_alone"])} for k, v in runs.items()},
              "same_outcome": same, "per_device_day": day}
    save("cost", result, args.smoke)
    _print(result)
    print(json.dumps(result, indent=2))
    if not all(same.values()):
        sys.exit(f"the pipelines disagree: {same}")


def _print(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    day = result["per_device_day"]
    table = Table(title=f"one device-day on AWS ({result['day_clips']} clips of 0.5 s; busy doorway "
                        f"{result['empty_share']:.0%} empty, quiet house {result['quiet_house_empty_share']:.0%}, "
                        f"busy shop {result['busy_shop_empty_share']:.0%})")
    table.add_column("")
    for name in day:
        table.add_column(name.replace("_", " "), justify="right")
    rows = [("frames recognised", lambda d: f"{d['frames_sent']:,}"),
            ("recognizer ms per frame (mean)", lambda d: f"{d['recognize_ms_mean']:.1f}"),
            ("clips uploaded", lambda d: f"{d['clips_uploaded']:,}"),
            ("uploads (PUT or POST)", lambda d: f"{d['puts']:,}"),
            ("upload URLs or grants asked", lambda d: f"{d['upload_asks']:,}")]
    rows += [("API requests", lambda d: f"{d['frames_sent'] + d['control_calls']:,}")]
    rows += [(f"{k} $", lambda d, k=k: f"{d['usd'][k]:.4f}") for k in ("lambda", "api_gateway", "s3_puts",
                                                                          "s3_storage", "dynamodb", "cloudwatch_logs",
                                                                          "total")]
    rows += [("Rekognition $, same frames", lambda d: f"{d['rekognition_usd_same_frames']:.2f}")]
    for label, cell in rows:
        table.add_row(label, *(cell(d) for d in day.values()))
    console = Console(stderr=True)
    console.print(table)
    old, new = result["runs"]["old"], result["runs"]["new"]
    for name, run in result["runs"].items():
        console.print(f"{name}, per visit: {_per_visit(run)}")
    for what, same in result["same_outcome"].items():
        console.print(f"{what.replace('_', ' ')}: old {_count(old[what])} · new {_count(new[what])} · "
                      + ("[green]same[/]" if same else "[red]different[/]"))


def _per_visit(run: dict) -> str:
    """What one visit of the run cost in calls: frames sent (occupied ones, empty ones beside it), reports, uploads."""
    visits = max(1, run["visits"])
    each = lambda n: f"{n / visits:.2f}"  # noqa: E731
    return (f"frames sent {each(run['sent_occupied'] + run['sent_empty_beside_visit'])} "
            f"({each(run['sent_occupied'])} of {each(run['occupied_clips'])} occupied clips, "
            f"{each(run['sent_empty_beside_visit'])} empty beside it), visit reports {each(run['visit_reports'])}, "
            f"uploads {each(run['puts'])}")


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 1) if values else None


def _count(value: list | int) -> int:
    return len(value) if isinstance(value, list) else value


if __name__ == "__main__":
    main()
