"""The parsed action config in words, for `facegate check-actions` (secret-free: the webhook shows its host only)."""
from __future__ import annotations

from pi_app.actions.config import CONFIRM, DOOR, NO_FACE, RULE_NAMES, ActionsConfig, Pulse, Rule
from pi_app.actions.webhook import url_origin
from pi_app.visits.grouping import VisitConfig


def describe_config(config: ActionsConfig) -> list[str]:
    """One line per fact: GPIO backend, outputs, each rule, the webhook."""
    lines = [f"gpio: backend {config.gpio_backend}, BCM numbering"]
    lines.append("outputs:" if config.outputs else "outputs: none")
    for output in sorted(config.outputs.values(), key=lambda o: o.pin):
        level = "active low" if output.active_low else "active high"
        lines.append(f"  {output.name}: GPIO{output.pin}, {output.kind}, {level}")
    lines += _visit_lines(config.visits)
    for name in RULE_NAMES:
        lines += _rule_lines(config.rules[name], config.visits)
    hook = config.webhook
    if hook is None:
        lines.append("webhook: none")
    else:
        headers = f", headers {', '.join(sorted(hook.headers))} (values hidden)" if hook.headers else ""
        lines.append(f"webhook: POST {url_origin(hook.url)}/… (timeout {hook.timeout_s:g} s{headers})")
        lines.append(f"  clip links valid {hook.clip_url_expiry_s} s; retries back off {hook.backoff.base_s:g}-"
                     f"{hook.backoff.max_s:g} s (jitter {hook.backoff.jitter:g}); give up after {hook.give_up_after_s:g} s")
        if hook.console_url:
            lines.append(f"  door requests' alerts link to {hook.console_url}/door-requests/<id>")
    return lines


def _visit_lines(visits: VisitConfig) -> list[str]:
    policy = visits.decision
    return [f"visits: a face followed from clip to clip (moving at most {visits.max_shift:g} face sizes); "
            f"ended after {visits.end_after_s:g} s without it",
            f"  decided on the latest {policy.window_clips} clips: a name with {policy.min_clips}+ clips, "
            f"unknown with {policy.unknown_min_clips}+, and {policy.min_share:.0%}+ of the confidence-weighted votes"]


def _rule_lines(rule: Rule, visits: VisitConfig) -> list[str]:
    if rule.does_nothing:
        return [f"on {rule.name}: nothing"]
    when = "per clip without a face" if rule.name == NO_FACE else "once per visit, when decided"
    pause = f", not again within {rule.cooldown_s:g} s" if rule.cooldown_s > 0 else ""
    lines = [f"on {rule.name}: {when}{pause}; pins only for clips at most {rule.max_age_s:g} s old"]
    lines += [f"  pulse {_pulse(p)}" for p in rule.signals]
    if rule.door is not None:
        lines.append(f"  {DOOR}: pulse {_pulse(rule.door)} at most once per visit, when details.{rule.entry_detail} "
                     f"is true and {rule.door_min_clips}+ of the latest {visits.decision.window_clips} clips agree as "
                     f"door-grade matches (confidence {rule.door_min_confidence:g}+) "
                     f"with no other enrolled name among them")
        lines.append(f"  door mode: confirm: a door request an operator approves in the console within "
                     f"{rule.confirm_timeout_s:g} s; a denial, a timeout or an API error keeps the door shut"
                     if rule.door_mode == CONFIRM else
                     "  door mode: auto: opens on the face alone (no liveness check: a photo of the person passes)")
    lines.append("  alert: webhook" if rule.alert else "  alert: no")
    return lines


def _pulse(pulse: Pulse) -> str:
    return f"{pulse.output} for {pulse.seconds:g} s"
