"""The device's action rules (TOML): which GPIO outputs exist, what each recognition outcome does, where alerts go.

Everything is checked when the file is loaded, so a wrong pin or a misspelt key stops the device at
start-up with a clear message instead of at the first visitor. See pi_app/actions.example.toml.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from facegate_contract import DOOR_REQUEST_MAX_EXPIRES_S, DOOR_REQUEST_MIN_EXPIRES_S
from pi_app.actions.config_reader import TableReader
from pi_app.transport.backoff import Backoff
from pi_app.visits.decision import DecisionPolicy
from pi_app.visits.grouping import VisitConfig

KNOWN, UNKNOWN, NO_FACE = "known", "unknown", "no_face"
RULE_NAMES = (KNOWN, UNKNOWN, NO_FACE)
SIGNAL, DOOR = "signal", "door"
GPIO_BACKENDS = ("auto", "rpi", "fake")
BCM_PINS = (0, 27)  # the 28 GPIO lines of the 40-pin header, BCM numbering
MAX_DOOR_PULSE_S = 60.0  # a relay held longer than this is a door left open, not a pulse
MAX_SIGNAL_S = 600.0
MAX_PRESIGN_S = 7 * 24 * 3600  # S3 SigV4 presigned URLs live at most 7 days
# Visits say when a person's rule fires again; a cool-down only adds a pause across visits. No visit
# spans "no_face" clips: there the cool-down is what keeps a shadow from firing every half second.
DEFAULT_COOLDOWN_S = {KNOWN: 0.0, UNKNOWN: 0.0, NO_FACE: 30.0}
MIN_DOOR_CLIPS = 2  # the door never opens on a single answer
# Each door-grade clip the door counts must also carry at least this naming confidence (docs/door-open-set.md).
DEFAULT_DOOR_MIN_CONFIDENCE = 0.6
MAX_WINDOW_CLIPS = 120
# Door modes: "auto" opens on the face alone (no liveness check: a photo of an allowed person passes);
# "confirm" files a door request that an operator approves or denies in the console before it expires.
AUTO, CONFIRM = "auto", "confirm"
DOOR_MODES = (AUTO, CONFIRM)
DEFAULT_CONFIRM_TIMEOUT_S = 60.0
# Alerts can wait: back off up to 5 minutes while the receiver is down, the outbox keeps them meanwhile.
DEFAULT_ALERT_BACKOFF = Backoff(base_s=1.0, max_s=300.0, jitter=0.5)


class ActionsConfigError(ValueError):
    """The action config is wrong; `problems` lists every mistake, each with its dotted path."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class Output:
    """One GPIO output. `door` outputs (the relay) may only be driven by the known-person rule's `door`."""

    name: str
    pin: int  # BCM
    kind: str = SIGNAL
    active_low: bool = False  # on = 0 V (many relay boards)


@dataclass(frozen=True)
class Pulse:
    """Turn an output on for `seconds`."""

    output: str
    seconds: float


@dataclass(frozen=True)
class Rule:
    """What a visit decided as a known person or a stranger does, once per visit; `no_face` fires per clip.
    `cooldown_s` keeps a subject's rule from firing again that soon, even in a new visit."""

    name: str
    cooldown_s: float
    max_age_s: float = 10.0  # pins only for clips recorded at most this long ago; alerts regardless
    signals: tuple[Pulse, ...] = ()
    door: Pulse | None = None  # known rule only, and only when the person's details allow entry
    entry_detail: str = "allow_entry"
    alert: bool = False
    door_min_clips: int = MIN_DOOR_CLIPS  # known rule: agreeing door-grade clips in the visit's window to open
    door_min_confidence: float = DEFAULT_DOOR_MIN_CONFIDENCE  # known rule: ...each with at least this confidence
    door_mode: str = AUTO  # known rule: open at once (auto) or only on an operator's approval (confirm)
    confirm_timeout_s: float = DEFAULT_CONFIRM_TIMEOUT_S  # confirm: an approval later than this never opens

    @property
    def does_nothing(self) -> bool:
        """True when the rule neither drives a pin nor alerts."""
        return not self.signals and self.door is None and not self.alert


@dataclass(frozen=True)
class Webhook:
    """Where alerts are POSTed, and how hard to try."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    timeout_s: float = 5.0
    clip_url_expiry_s: int = 24 * 3600
    give_up_after_s: float = 24 * 3600
    backoff: Backoff = DEFAULT_ALERT_BACKOFF
    console_url: str = ""  # the console's address: a door request's alert links to its page there


@dataclass(frozen=True)
class ActionsConfig:
    """The whole action config."""

    gpio_backend: str = "auto"
    outputs: dict[str, Output] = field(default_factory=dict)
    rules: dict[str, Rule] = field(default_factory=lambda: {n: Rule(n, DEFAULT_COOLDOWN_S[n]) for n in RULE_NAMES})
    webhook: Webhook | None = None
    visits: VisitConfig = field(default_factory=VisitConfig)


def load_actions_config(path: Path) -> ActionsConfig:
    """Read and check an action config file; raises ActionsConfigError listing every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ActionsConfigError(str(path), [f"cannot read the file ({exc.strerror or exc})"]) from exc
    return parse_actions_config(text, source=str(path))


def parse_actions_config(text: str, source: str = "actions config") -> ActionsConfig:
    """Parse and check TOML text; raises ActionsConfigError listing every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ActionsConfigError(source, [f"not valid TOML: {exc}"]) from exc
    problems: list[str] = []
    top = TableReader(data, "", problems)
    gpio = top.table("gpio")
    backend = (gpio.text("backend", "auto", choices=GPIO_BACKENDS) if gpio else None) or "auto"
    if gpio:
        gpio.finish()
    output_table = top.table("outputs")
    outputs = _outputs(output_table)
    webhook = _webhook(top.table("webhook"))
    rules = _rules(top.table("on"), outputs, set(output_table.data) if output_table else set())
    visits = _visits(top.table("visits"))
    top.finish()
    for rule in rules.values():
        if rule.alert and not top.has("webhook"):
            problems.append(f"on.{rule.name}.alert: alerts need a [webhook] section with a url")
    if visits is not None and rules[KNOWN].door_min_clips > visits.decision.window_clips:
        problems.append(f"on.known.door_min_clips: {rules[KNOWN].door_min_clips} agreeing clips can never fit in "
                        f"visits.window_clips = {visits.decision.window_clips}: the door would never open")
    if problems:
        raise ActionsConfigError(source, problems)
    assert visits is not None
    return ActionsConfig(gpio_backend=backend, outputs=outputs, rules=rules, webhook=webhook, visits=visits)


def _outputs(table: TableReader | None) -> dict[str, Output]:
    outputs: dict[str, Output] = {}
    if table is None:
        return outputs
    owner_of_pin: dict[int, str] = {}
    for name, item in table.subtables().items():
        pin = item.integer("pin", minimum=BCM_PINS[0], maximum=BCM_PINS[1], what="a BCM GPIO number")
        kind = item.text("kind", SIGNAL, choices=(SIGNAL, DOOR))
        active_low = item.flag("active_low", False)
        item.finish()
        if pin is not None and pin in owner_of_pin:
            item.problem("pin", f"pin {pin} is already used by outputs.{owner_of_pin[pin]}")
        elif pin is not None and kind is not None:
            owner_of_pin[pin] = name
            outputs[name] = Output(name, pin, kind, active_low)
    return outputs


def _rules(table: TableReader | None, outputs: dict[str, Output], declared: set[str]) -> dict[str, Rule]:
    rules = ActionsConfig().rules
    if table is None:
        return rules
    for name, item in table.subtables().items():
        if name not in RULE_NAMES:
            item.problem("", f"unknown rule; rules are {', '.join(RULE_NAMES)}")
            continue
        rules[name] = _rule(name, item, outputs, declared)
    return rules


def _rule(name: str, item: TableReader, outputs: dict[str, Output], declared: set[str]) -> Rule:
    cooldown = item.number("cooldown_s", DEFAULT_COOLDOWN_S[name], minimum=0)
    max_age = item.number("max_age_s", 10.0, above=0)
    signals = tuple(p for p in (_pulse(t, outputs, declared, SIGNAL, MAX_SIGNAL_S) for t in item.tables("signals")) if p)
    door, entry_detail, door_min_clips = None, "allow_entry", MIN_DOOR_CLIPS
    door_min_confidence: float | None = DEFAULT_DOOR_MIN_CONFIDENCE
    door_mode: str | None = AUTO
    confirm_timeout: float | None = DEFAULT_CONFIRM_TIMEOUT_S
    if name == KNOWN:  # read only here: elsewhere `door` is reported as not allowed, never silently ignored
        door_table = item.table("door")
        door = _pulse(door_table, outputs, declared, DOOR, MAX_DOOR_PULSE_S) if door_table else None
        entry_detail = item.text("entry_detail", "allow_entry") or "allow_entry"
        door_min_clips = item.integer("door_min_clips", MIN_DOOR_CLIPS, minimum=MIN_DOOR_CLIPS,
                                      maximum=MAX_WINDOW_CLIPS, what="a number of agreeing clips") or MIN_DOOR_CLIPS
        door_min_confidence = item.number("door_min_confidence", DEFAULT_DOOR_MIN_CONFIDENCE, above=0, maximum=1)
        door_mode = item.text("door_mode", AUTO, choices=DOOR_MODES)
        # Within what the API keeps a request pending for: the device never waits on a request the API has expired.
        confirm_timeout = item.number("confirm_timeout_s", DEFAULT_CONFIRM_TIMEOUT_S,
                                      minimum=DOOR_REQUEST_MIN_EXPIRES_S, maximum=DOOR_REQUEST_MAX_EXPIRES_S)
    alert = item.flag("alert", False)
    item.finish(hints={"door": "only [on.known] may open the door",
                       "entry_detail": "only [on.known] has an entry_detail",
                       "door_min_clips": "only [on.known] has a door_min_clips",
                       "door_min_confidence": "only [on.known] has a door_min_confidence",
                       "door_mode": "only [on.known] has a door_mode",
                       "confirm_timeout_s": "only [on.known] has a confirm_timeout_s"})
    return Rule(name, cooldown if cooldown is not None else DEFAULT_COOLDOWN_S[name],
                max_age if max_age is not None else 10.0, signals, door, entry_detail, alert, door_min_clips,
                door_min_confidence if door_min_confidence is not None else DEFAULT_DOOR_MIN_CONFIDENCE,
                door_mode or AUTO, confirm_timeout if confirm_timeout is not None else DEFAULT_CONFIRM_TIMEOUT_S)


def _visits(item: TableReader | None) -> VisitConfig | None:
    """The [visits] table; None when a value is wrong (already reported)."""
    default = VisitConfig()
    if item is None:
        return default
    policy = default.decision
    end_after = item.number("end_after_s", default.end_after_s, above=0, maximum=60)
    max_shift = item.number("max_shift", default.max_shift, above=0, maximum=20)
    window = item.integer("window_clips", policy.window_clips, minimum=MIN_DOOR_CLIPS, maximum=MAX_WINDOW_CLIPS,
                          what="a number of clips")
    fits = window or MAX_WINDOW_CLIPS
    min_clips = item.integer("min_clips", policy.min_clips, minimum=1, maximum=fits,
                             what="a number of clips within visits.window_clips")
    unknown_min = item.integer("unknown_min_clips", policy.unknown_min_clips, minimum=1, maximum=fits,
                               what="a number of clips within visits.window_clips")
    # Above one half: two labels can never both be decided on the same window.
    share = item.number("min_share", policy.min_share, above=0.5, maximum=1)
    item.finish()
    if None in (end_after, max_shift, window, min_clips, unknown_min, share):
        return None
    assert end_after is not None and max_shift is not None and window is not None and min_clips is not None
    assert unknown_min is not None and share is not None
    return VisitConfig(end_after, max_shift, DecisionPolicy(window, min_clips, unknown_min, share))


def _pulse(item: TableReader, outputs: dict[str, Output], declared: set[str], kind: str,
           longest: float) -> Pulse | None:
    name = item.text("output")
    seconds = item.number("seconds", above=0, maximum=longest)
    item.finish()
    output = outputs.get(name) if name else None
    if name and output is None and name not in declared:  # a declared but broken output is reported already
        item.problem("output", f"no output named {name!r} in [outputs]")
    elif output is not None and output.kind != kind:
        item.problem("output", f"outputs.{name} is a {output.kind} output; here only a {kind} output may be used"
                     + (" (set kind = \"door\" on the relay)" if kind == DOOR else ""))
    elif name and seconds is not None:
        return Pulse(name, seconds)
    return None


def _webhook(item: TableReader | None) -> Webhook | None:
    if item is None:
        return None
    url = item.text("url")
    allow_http = item.flag("allow_http", False)
    if url is not None and not is_http_url(url):
        item.problem("url", "must be an http:// or https:// URL with a host")
        url = None
    elif url is not None and urlsplit(url).scheme != "https" and not allow_http:
        # An alert carries names, details and a clip link: in the clear only when someone chose that.
        item.problem("url", "must be https:// (alerts carry names and clip links); set allow_http = true to send "
                            "them over plain http")
        url = None
    headers = item.strings("headers")
    timeout = item.number("timeout_s", 5.0, above=0, maximum=120)
    expiry = item.integer("clip_url_expiry_s", 24 * 3600, minimum=1, maximum=MAX_PRESIGN_S,
                          what="a presigned URL lifetime in whole seconds")
    give_up = item.number("give_up_after_s", 24 * 3600, above=0)
    backoff = _backoff(item.table("backoff"))
    console_url = item.text("console_url", None) or ""
    if console_url and not is_http_url(console_url):
        item.problem("console_url", "must be an http:// or https:// URL with a host")
    item.finish()
    if url is None or None in (timeout, expiry, give_up, backoff):
        return None
    assert timeout is not None and expiry is not None and give_up is not None and backoff is not None
    return Webhook(url, headers, timeout, expiry, give_up, backoff, console_url.rstrip("/"))


def _backoff(item: TableReader | None) -> Backoff | None:
    default = DEFAULT_ALERT_BACKOFF
    if item is None:
        return default
    base = item.number("base_s", default.base_s, above=0)
    longest = item.number("max_s", default.max_s, above=0)
    jitter = item.number("jitter", default.jitter, minimum=0, maximum=1)
    item.finish()
    if base is None or longest is None or jitter is None:
        return None
    return Backoff(base_s=base, max_s=longest, jitter=jitter)


def is_http_url(url: str) -> bool:
    """True for an http(s) URL with a host."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)
