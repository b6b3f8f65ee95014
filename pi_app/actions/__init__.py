"""What the device does about what it recognises: GPIO pulses (LEDs, buzzer, door relay) and webhook alerts.

Data path, by module: events (`recognition`, `clip_recorded`, `upload`) → action_sink → pi_app.visits
(visits decided over several clips) → rules (which rule, what it does) + door_rule (may the relay open)
+ cooldowns → supervised_outputs → pin_owner (a process of its own that drives the pins and lets go when the
app dies) → gpio_outputs (pulses on a scheduler; gpio_backend = RPi.GPIO | fake-rpi) and alert →
alert_outbox (durable) → alert_dispatcher → webhook, with alert_payload (clip_links signs the clip URL,
clip_uploads says whether it works yet). config (+ config_reader) loads the TOML rules, config_summary
prints them; device_actions wires it all for `facegate run --actions`.
"""
from pi_app.actions.config import ActionsConfig, ActionsConfigError, load_actions_config, parse_actions_config
from pi_app.actions.device_actions import DeviceActions

__all__ = ["ActionsConfig", "ActionsConfigError", "DeviceActions", "load_actions_config", "parse_actions_config"]
