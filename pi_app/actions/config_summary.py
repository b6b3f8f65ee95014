"""The parsed action config in words, for `facegate check-actions` (secret-free: the webhook shows its host only)."""
from __future__ import annotations

from pi_app.actions.config import DOOR, RULE_NAMES, ActionsConfig, Pulse, Rule
from pi_app.actions.webhook import url_origin


def describe_config(config: ActionsConfig) -> list[str]:
    """One line per fact: GPIO backend, outputs, each rule, the webhook."""
    lines = [f"gpio: backend {config.gpio_backend}, BCM numbering"]
    lines.append("outputs:" if config.outputs else "outputs: none")
    for output in sorted(config.outputs.values(), key=lambda o: o.pin):
        level = "active low" if output.active_low else "active high"
        lines.append(f"  {output.name}: GPIO{output.pin}, {output.kind}, {level}")
    for name in RULE_NAMES:
        lines += _rule_lines(config.rules[name])
    hook = config.webhook
    if hook is None:
        lines.append("webhook: none")
    else:
        headers = f", headers {', '.join(sorted(hook.headers))} (values hidden)" if hook.headers else ""
        lines.append(f"webhook: POST {url_origin(hook.url)}/… (timeout {hook.timeout_s:g} s{headers})")
        lines.append(f"  clip links valid {hook.clip_url_expiry_s} s; retries back off {hook.backoff.base_s:g}-"
                     f"{hook.backoff.max_s:g} s (jitter {hook.backoff.jitter:g}); give up after {hook.give_up_after_s:g} s")
    return lines


def _rule_lines(rule: Rule) -> list[str]:
    if rule.does_nothing:
        return [f"on {rule.name}: nothing"]
    lines = [f"on {rule.name}: once per visit (cool-down {rule.cooldown_s:g} s); "
             f"pins only for clips at most {rule.max_age_s:g} s old"]
    lines += [f"  pulse {_pulse(p)}" for p in rule.signals]
    if rule.door is not None:
        lines.append(f"  {DOOR}: pulse {_pulse(rule.door)} when details.{rule.entry_detail} is true")
    lines.append("  alert: webhook" if rule.alert else "  alert: no")
    return lines


def _pulse(pulse: Pulse) -> str:
    return f"{pulse.output} for {pulse.seconds:g} s"
