"""Action config: the shipped example loads, and every kind of mistake stops start-up with a message that
names the key and says what is wrong — from the API, `facegate check-actions` and `facegate run --actions`."""
from __future__ import annotations

from pathlib import Path

import pytest

from pi_app.actions import ActionsConfigError, load_actions_config, parse_actions_config
from pi_app.actions.config import DOOR, KNOWN, UNKNOWN, Pulse
from pi_app.visits import DecisionPolicy, VisitConfig
from tests.conftest import ROOT
from tests.unit.pi_actions_support import RULES
from tests.unit.test_pi_cli import _facegate

EXAMPLE = ROOT / "pi_app" / "actions.example.toml"
OUTPUTS = '[outputs.led]\npin = 17\n[outputs.relay]\npin = 23\nkind = "door"\n'


def _problems(text: str) -> list[str]:
    with pytest.raises(ActionsConfigError) as caught:
        parse_actions_config(text, source="rules.toml")
    assert str(caught.value).startswith(f"rules.toml: {len(caught.value.problems)} problem(s):")
    return caught.value.problems


def test_the_example_config_loads_with_the_documented_rules() -> None:
    config = load_actions_config(EXAMPLE)

    assert {name: (o.pin, o.kind) for name, o in config.outputs.items()} == {
        "green_led": (17, "signal"), "red_led": (27, "signal"), "buzzer": (22, "signal"), "door_relay": (23, DOOR)}
    assert config.outputs["door_relay"].active_low is True
    known, unknown = config.rules[KNOWN], config.rules[UNKNOWN]
    assert (known.signals, known.door, known.alert, known.cooldown_s, known.door_min_clips) == (
        (Pulse("green_led", 2.0),), Pulse("door_relay", 0.5), False, 0.0, 2)
    assert (unknown.signals, unknown.door, unknown.alert) == ((Pulse("red_led", 2.0), Pulse("buzzer", 0.3)), None, True)
    assert config.rules["no_face"].does_nothing
    assert config.webhook is not None and config.webhook.clip_url_expiry_s == 86400
    assert config.visits == VisitConfig(2.0, 2.5, DecisionPolicy(window_clips=4, min_clips=2, unknown_min_clips=3,
                                                                  min_share=0.6))


def test_visits_and_the_door_rule_are_read_from_the_file() -> None:
    config = parse_actions_config(OUTPUTS + "[visits]\nend_after_s = 3\nwindow_clips = 8\nmin_clips = 3\n"
                                  "min_share = 0.75\n[on.known]\ndoor = { output = \"relay\", seconds = 1 }\n"
                                  "door_min_clips = 5\n")

    assert config.visits.end_after_s == 3.0 and config.visits.max_shift == 2.5
    assert config.visits.decision == DecisionPolicy(window_clips=8, min_clips=3, unknown_min_clips=3, min_share=0.75)
    assert config.rules[KNOWN].door_min_clips == 5


def test_an_empty_file_is_valid_and_does_nothing() -> None:
    config = parse_actions_config("")

    assert config.outputs == {} and config.webhook is None
    assert all(rule.does_nothing for rule in config.rules.values())


@pytest.mark.parametrize("text, expected", [
    ("[gpio]\nbackend = \"pigpio\"", "gpio.backend: 'pigpio' is not one of auto, rpi, fake"),
    ("colour = 1", "colour: unknown key"),
    ("[outputs.led]\npin = 17\nblink = true", "outputs.led.blink: unknown key"),
    ("[outputs.led]\npin = 28", "outputs.led.pin: 28 is not a BCM GPIO number (0-27)"),
    ("[outputs.led]\npin = -1", "outputs.led.pin: -1 is not a BCM GPIO number (0-27)"),
    ("[outputs.led]\npin = \"17\"", "outputs.led.pin: '17' is not a BCM GPIO number (0-27)"),
    ("[outputs.led]\nkind = \"signal\"", "outputs.led.pin: is required"),
    ("[outputs.a]\npin = 5\n[outputs.b]\npin = 5", "outputs.b.pin: pin 5 is already used by outputs.a"),
    (OUTPUTS + "[on.known]\nsignals = [{ output = \"led\", seconds = -2 }]",
     "on.known.signals[0].seconds: must be more than 0, got -2"),
    (OUTPUTS + "[on.known]\ncooldown_s = -1", "on.known.cooldown_s: must be 0 or more, got -1"),
    (OUTPUTS + "[on.known]\nsignals = [{ output = \"led\" }]", "on.known.signals[0].seconds: is required"),
    (OUTPUTS + "[on.known]\nsignals = [{ output = \"lamp\", seconds = 1 }]",
     "on.known.signals[0].output: no output named 'lamp' in [outputs]"),
    (OUTPUTS + "[on.known]\ndoor = { output = \"relay\", seconds = 600 }", "on.known.door.seconds: must be 60 or less"),
    (OUTPUTS + "[on.stranger]\nalert = true", "on.stranger: unknown rule; rules are known, unknown, no_face"),
    ("[webhook]\nurl = \"ftp://example.org/x\"", "webhook.url: must be an http:// or https:// URL with a host"),
    ("[webhook]\nurl = \"hooks.example.org/x\"", "webhook.url: must be an http:// or https:// URL with a host"),
    ("[webhook]\ntimeout_s = 5", "webhook.url: is required"),
    ("[webhook]\nurl = \"https://h/x\"\nclip_url_expiry_s = 700000",
     "webhook.clip_url_expiry_s: 700000 is not a presigned URL lifetime in whole seconds (1-604800)"),
    ("[webhook]\nurl = \"https://h/x\"\nbackoff = { base_s = 0 }", "webhook.backoff.base_s: must be more than 0, got 0"),
    ("[on.unknown]\nalert = true", "on.unknown.alert: alerts need a [webhook] section with a url"),
    ("[outputs]\nled = 17", "outputs.led: expected a table, got an integer"),
    ("[outputs.led\npin = 17", "not valid TOML"),
    (OUTPUTS + "[on.known]\ndoor_min_clips = 1", "on.known.door_min_clips: 1 is not a number of agreeing clips (2-120)"),
    (OUTPUTS + "[on.known]\ndoor_min_clips = 5", "on.known.door_min_clips: 5 agreeing clips can never fit in "
                                                 "visits.window_clips = 4"),
    (OUTPUTS + "[on.unknown]\ndoor_min_clips = 3", "on.unknown.door_min_clips: only [on.known] has a door_min_clips"),
    ("[visits]\nend_after_s = 0", "visits.end_after_s: must be more than 0, got 0"),
    ("[visits]\nwindow_clips = 1", "visits.window_clips: 1 is not a number of clips (2-120)"),
    ("[visits]\nwindow_clips = 6\nmin_clips = 7", "visits.min_clips: 7 is not a number of clips within "
                                                   "visits.window_clips (1-6)"),
    ("[visits]\nmin_share = 0.5", "visits.min_share: must be more than 0.5, got 0.5"),
    ("[visits]\ncooldown_s = 3", "visits.cooldown_s: unknown key"),
])
def test_a_mistake_is_named_by_its_key(text: str, expected: str) -> None:
    problems = _problems(text)

    assert any(expected in problem for problem in problems), problems


def test_strangers_cannot_be_given_the_door() -> None:
    door_in_unknown = OUTPUTS + "[on.unknown]\ndoor = { output = \"relay\", seconds = 1 }"
    relay_as_signal = OUTPUTS + "[on.unknown]\nsignals = [{ output = \"relay\", seconds = 1 }]"
    led_as_door = OUTPUTS + "[on.known]\ndoor = { output = \"led\", seconds = 1 }"

    assert _problems(door_in_unknown) == ["on.unknown.door: only [on.known] may open the door"]
    assert _problems(relay_as_signal) == ["on.unknown.signals[0].output: outputs.relay is a door output; "
                                          "here only a signal output may be used"]
    assert "set kind = \"door\" on the relay" in _problems(led_as_door)[0]


def test_every_problem_is_reported_at_once() -> None:
    text = "[outputs.a]\npin = 99\n[outputs.b]\npin = 3\nkind = \"relay\"\n[webhook]\nurl = \"x\"\n"

    assert len(_problems(text)) == 3


def test_an_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ActionsConfigError, match="cannot read the file"):
        load_actions_config(tmp_path / "missing.toml")


def test_check_actions_prints_the_parsed_rules_without_the_webhook_token(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES.replace("http://127.0.0.1:9/hook", "https://hooks.example.org/s3cr3t-token")
                     + "headers = { Authorization = \"Bearer hidden-value\" }\n")

    result = _facegate("check-actions", str(rules))

    assert result.returncode == 0, result.stderr
    assert f"{rules}: OK" in result.stdout
    assert ("  door: pulse door_relay for 0.5 s at most once per visit, when details.allow_entry is true and 2+ of "
            "the latest 4 clips agree as door-grade matches (confidence 0.6+) with no other enrolled name among them") in result.stdout
    assert "visits: a face followed from clip to clip (moving at most 2.5 face sizes); ended after 2 s" in result.stdout
    assert "on no_face: nothing" in result.stdout
    assert "webhook: POST https://hooks.example.org/…" in result.stdout
    assert "s3cr3t" not in result.stdout and "hidden-value" not in result.stdout


def test_check_actions_exits_2_with_every_problem(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text("[outputs.a]\npin = 30\n[outputs.b]\npin = 4\n[outputs.c]\npin = 4\n")

    result = _facegate("check-actions", str(rules))

    assert result.returncode == 2
    assert "outputs.a.pin: 30 is not a BCM GPIO number (0-27)" in result.stderr
    assert "outputs.c.pin: pin 4 is already used by outputs.b" in result.stderr


def test_run_rejects_bad_actions_before_connecting_or_recording(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text("[on.known]\ncooldown_s = -5\n")

    # No outputs file exists either: the actions are checked first, so their message is the one shown.
    result = _facegate("run", "--camera", "picamera2", "--actions", str(rules), "--outputs", str(tmp_path / "none.json"))

    assert result.returncode == 2
    assert "--actions" in result.stderr and "on.known.cooldown_s: must be 0 or more, got -5" in result.stderr


def test_a_plain_http_webhook_stops_start_up_unless_allowed(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text("[webhook]\nurl = \"http://hooks.example.org/x\"\n")

    checked = _facegate("check-actions", str(rules))
    run = _facegate("run", "--camera", "picamera2", "--actions", str(rules), "--outputs", str(tmp_path / "none.json"))

    for result in (checked, run):
        assert result.returncode == 2
        assert "webhook.url: must be https://" in result.stderr and "allow_http = true" in result.stderr
    allowed = parse_actions_config("[webhook]\nurl = \"http://hooks.example.org/x\"\nallow_http = true\n")
    assert allowed.webhook is not None and allowed.webhook.url == "http://hooks.example.org/x"
    assert parse_actions_config("[webhook]\nurl = \"https://hooks.example.org/x\"\n").webhook is not None
