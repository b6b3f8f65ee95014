"""The `facegate` command: one CLI for the stack, the recognizer and the device."""
from __future__ import annotations

import typer

from pi_app import demo as demo_cli
from pi_app import device_cli
from recognizer import cli as recognizer_cli
from services import stack_commands

app = typer.Typer(
    name="facegate",
    help="facegate: emulation-first face recognition (device app, image Lambda recognizer, AWS stack).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold credentials
)
stack_commands.register(app)
recognizer_cli.register(app)
demo_cli.register(app)
device_cli.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
