"""Helpers for the action-layer tests: fake-rpi's GPIO recording every pin write with the scheduler's time,
recognition events (faces with boxes), and a device-actions rig on a manual clock that plays visits."""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pi_app.actions import DeviceActions, parse_actions_config
from pi_app.actions.gpio_backend import fake_gpio, load_gpio
from pi_app.actions.scheduler import ManualScheduler
from pi_app.actions.webhook import DELIVERED, SendResult
from facegate_contract import clip_key
from facegate_contract.device_events import ClipRecognition, DeviceEvent
from facegate_contract.wire import Face, convert
from pi_app.recording.clip_names import clip_id
from tests.unit.pi_support import FakeClock

GREEN, RED, BUZZER, RELAY = 17, 27, 22, 23

RULES = """
[gpio]
backend = "rpi"

[outputs.green_led]
pin = 17
[outputs.red_led]
pin = 27
[outputs.buzzer]
pin = 22
[outputs.door_relay]
pin = 23
kind = "door"

[on.known]
signals = [{ output = "green_led", seconds = 2.0 }]
door = { output = "door_relay", seconds = 0.5 }

[on.unknown]
signals = [{ output = "red_led", seconds = 2.0 }, { output = "buzzer", seconds = 0.3 }]
alert = true

[webhook]
url = "http://127.0.0.1:9/hook"
allow_http = true
"""


def recording_gpio(monkeypatch: pytest.MonkeyPatch, scheduler: ManualScheduler) -> tuple[Any, list[tuple[int, int, float]]]:
    """fake-rpi installed as `RPi.GPIO` (as its README says), loaded the way a Pi loads the real one, with
    every `output()` recorded as (pin, value, scheduler time)."""
    fake = fake_gpio()
    monkeypatch.setitem(sys.modules, "RPi", sys.modules["fake_rpi.RPi"])
    monkeypatch.setitem(sys.modules, "RPi.GPIO", fake)
    gpio = load_gpio("rpi")
    assert gpio is fake
    writes: list[tuple[int, int, float]] = []
    monkeypatch.setattr(gpio, "output", lambda pin, value: writes.append((pin, value, round(scheduler.now(), 3))))
    return gpio, writes


class FakeLinks:
    """Signs like S3ClipLinks, without S3."""

    def url(self, key: str, expires_s: int) -> str:
        return f"http://127.0.0.1:4566/clips-bucket/{key}?X-Amz-Expires={expires_s}&X-Amz-Signature=abc"


@dataclass
class RecordingSender:
    """Collects alert payloads instead of POSTing them."""

    origin: str = "http://127.0.0.1:9"
    payloads: list[dict] = field(default_factory=list)

    def send(self, payload: dict) -> SendResult:
        self.payloads.append(payload)
        return SendResult(DELIVERED, 200)


def recognition(t: float, *faces: dict[str, Any], seq: int = 0, status: str | None = None,
                device: str = "door-1") -> ClipRecognition:
    """A `recognition` event as ClipWorker emits it, for a clip of `device` recorded at `t` with these faces (JSON
    objects, as the API sends them)."""
    names = [f["name"] for f in faces]
    if status is None:
        status = "no_face" if not faces else "recognised" if any(n != "unknown" for n in names) else "unknown"
    clip = clip_id(t, seq)
    return ClipRecognition(clip=clip, key=clip_key(device, clip), recorded_at=t, status=status, names=names,
                           faces=convert(list(faces), list[Face]))


def visit_events(t: float, *faces: dict[str, Any], clips: int = 3, seq: int = 0) -> list[ClipRecognition]:
    """The recognition events of `clips` consecutive clips (0.5 s apart from `t`, numbered from `seq`) showing `faces`."""
    return [recognition(t + 0.5 * n, *faces, seq=seq + n) for n in range(clips)]


def box(x: float = 300, y: float = 200, side: float = 60) -> dict[str, float]:
    """A face box as the API gives it, `side` pixels wide with its top-left corner at (x, y)."""
    return {"x1": x, "y1": y, "x2": x + side, "y2": y + side, "score": 0.99}


def eileen(allow_entry: Any = True, x: float = 300, confidence: float = 0.97, door: bool = True) -> dict[str, Any]:
    """Eileen_Collins' face at `x`, with allow_entry in her details (or no details at all when None); `door`: the
    recognizer called the match door-grade."""
    details = {} if allow_entry is None else {"name": "Eileen Collins", "allow_entry": allow_entry}
    return {"name": "Eileen_Collins", "confidence": confidence, "details": details, "box": box(x), "door": door}


def alvaro(allow_entry: Any = True, x: float = 300, confidence: float = 0.73, door: bool = True) -> dict[str, Any]:
    """Alvaro_Uribe's face: another enrolled person (the wrong answer of a hard clip)."""
    return {"name": "Alvaro_Uribe", "confidence": confidence, "details": {"allow_entry": allow_entry}, "box": box(x),
            "door": door}


def stranger(confidence: float = 0.6, x: float = 300) -> dict[str, Any]:
    return {"name": "unknown", "confidence": confidence, "details": {}, "box": box(x)}


class ActionsRig:
    """DeviceActions on fake-rpi, a manual scheduler and a fake wall clock moved together; alerts recorded."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, rules: str = RULES,
                 door_requests: Any = None, device: str = "door-1") -> None:
        self.device = device
        self.scheduler = ManualScheduler()
        self.clock = FakeClock()
        self.gpio, self.writes = recording_gpio(monkeypatch, self.scheduler)
        self.sender = RecordingSender()
        self.events: list[DeviceEvent] = []  # what the sink published (visit events, visit actions)
        self.actions = DeviceActions(parse_actions_config(rules), device_id=device, outbox_dir=tmp_path / "alerts",
                                     gpio=self.gpio, scheduler=self.scheduler, sender=self.sender, clock=self.clock,
                                     publish=self.events.append, door_requests=door_requests, door_poll_s=0.02)
        self.actions.outputs.open()  # pins only: the dispatcher thread stays off, tests deliver by hand
        self.seq = 0

    def see(self, *faces: dict[str, Any], seq: int | None = None, age_s: float = 0.0) -> None:
        """The worker reports a clip recorded `age_s` ago with these faces (the next clip, unless `seq` is given)."""
        if seq is None:
            seq, self.seq = self.seq, self.seq + 1
        self.actions.sink.handle(recognition(self.clock.now - age_s, *faces, seq=seq, device=self.device))

    def clips(self, *faces_per_clip: tuple[dict[str, Any], ...] | dict[str, Any] | None, every_s: float = 0.5) -> None:
        """One clip per argument, `every_s` apart (the clock moves after each): a face, a tuple of faces, or
        None for a clip with no face."""
        for faces in faces_per_clip:
            self.see(*(() if faces is None else faces if isinstance(faces, tuple) else (faces,)))
            self.advance(every_s)

    def quiet(self, seconds: float = 3.0) -> None:
        """Clips with no face for `seconds`: open visits end."""
        self.clips(*[None] * round(seconds / 0.5))

    def published(self, name: str) -> list[Any]:
        """The published events called `name`."""
        return [e for e in self.events if e.name == name]

    @property
    def door_openings(self) -> list[float]:
        """When the relay went on."""
        return [t for pin, value, t in self.writes if pin == RELAY and value == 1]

    def advance(self, seconds: float) -> None:
        """Let time pass: pulses end on the scheduler, the wall clock moves as much."""
        self.scheduler.advance(seconds)
        self.clock.advance(seconds)

    def deliver(self) -> list[dict]:
        """Run one delivery round; returns every payload sent so far."""
        assert self.actions.dispatcher is not None
        self.actions.dispatcher.deliver_due()
        return self.sender.payloads
