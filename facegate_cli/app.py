"""The `facegate` command: one CLI over the three roles, each loaded only when one of its commands runs.

A deploy-only install (`pip install 'facegate[deploy]'`) has no numpy or OpenCV, a device has no boto3 stack code
beyond what it uses: so the root knows every command by name and short help, and imports the module that defines
a command only when that command is asked for. A command whose extra is not installed says which one to install.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from facegate_cli.friendly_errors import run_friendly


@dataclass(frozen=True)
class CommandSpec:
    """Where a command lives, which extra it needs, and its one-line help (shown without importing it)."""

    module: str
    attribute: str
    extra: str
    help: str


COMMANDS: dict[str, CommandSpec] = {
    "deploy": CommandSpec("services.stack_commands", "deploy", "deploy", "Create or update the whole stack."),
    "destroy": CommandSpec("services.stack_commands", "destroy", "deploy", "Delete every resource of the stack."),
    "seed": CommandSpec("services.stack_commands", "seed", "deploy", "Write the people records into DynamoDB."),
    "status": CommandSpec("services.stack_commands", "status", "deploy", "Show which resources of the stack exist."),
    "device": CommandSpec("services.device_commands", "device_app", "deploy",
                          "Provision devices: add, remove, list (API keys and device files)."),
    "sightings": CommandSpec("services.sightings_commands", "sightings", "deploy",
                             "List visits at the door from the sightings table."),
    "train": CommandSpec("recognizer.training.cli", "train", "recognizer", "Build the open-set classifier."),
    "evaluate": CommandSpec("recognizer.training.cli", "evaluate", "recognizer", "Measure a model on val data."),
    "enroll": CommandSpec("recognizer.training.cli", "enroll", "recognizer", "Enrol one person from photos."),
    "publish": CommandSpec("recognizer.training.cli", "publish", "recognizer", "Ship a trained model to the stack."),
    "people": CommandSpec("recognizer.training.cli", "people", "recognizer", "List the face library."),
    "forget": CommandSpec("recognizer.training.cli", "forget", "recognizer",
                          "Remove one person: model, record and enrolment photos."),
    "run": CommandSpec("pi_app.runtime.device_cli", "run", "device", "Record clips, recognise them, upload every clip."),
    "collect": CommandSpec("pi_app.runtime.device_cli", "collect", "device", "Capture face photos for training."),
    "check-actions": CommandSpec("pi_app.runtime.device_cli", "check_actions", "device", "Check an action rules file."),
    "release-pins": CommandSpec("pi_app.runtime.device_cli", "release_pins", "device",
                                "Drive every GPIO output off and release the pins (systemd stop path)."),
    "demo": CommandSpec("facegate_cli.demo", "demo", "deploy,device,recognizer",
                        "Enrol the demo person and play the fixture video through the device app."),
    "console": CommandSpec("facegate_cli.console.command", "console", "console",
                           "Serve the web console: visits with clips, the face library, strangers to review."),
}


class MissingExtra(Exception):
    """A command's role is not installed here."""

    friendly = True
    exit_code = 2


def load_command(name: str) -> Any:
    """The real (typer-built) command for `name`, importing its module now."""
    spec = COMMANDS[name]
    try:
        module = importlib.import_module(spec.module)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in ("facegate_cli", "facegate_contract", "services", "pi_app", "recognizer"):
            raise
        raise MissingExtra(f"`facegate {name}` needs the {spec.extra} extra: pip install 'facegate[{spec.extra}]' "
                           f"(missing module: {exc.name})") from exc
    target = getattr(module, spec.attribute)
    if not isinstance(target, typer.Typer):
        single = typer.Typer(add_completion=False)
        single.command(name=name)(target)
        target = single
    command = typer.main.get_command(target)
    command.name = name
    return command


class LazyCommand(TyperCommand):
    """Stands for a command in the root's listing and help; the real one is built only when it runs."""

    def __init__(self, name: str, spec: CommandSpec) -> None:
        super().__init__(name=name, help=spec.help, short_help=spec.help, callback=None)

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        # The group invokes `sub_ctx.command`: the real command takes over from here.
        name = self.name
        assert name is not None
        real = run_friendly(lambda: load_command(name))
        return real.make_context(info_name, args, parent=parent, **extra)


class LazyGroup(TyperGroup):
    """The root group: subcommands by name from COMMANDS, imported on first use; user errors end in one line."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        spec = COMMANDS.get(cmd_name)
        return LazyCommand(cmd_name, spec) if spec else None

    def invoke(self, ctx: Any) -> Any:
        return run_friendly(lambda: super(LazyGroup, self).invoke(ctx))


app = typer.Typer(cls=LazyGroup, add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False,
                  context_settings={"help_option_names": ["-h", "--help"]},
                  help="facegate: emulation-first face recognition at the door (device app, image Lambda "
                       "recognizer, AWS stack).")


@app.callback()
def _root() -> None:
    """facegate: emulation-first face recognition at the door."""


def main() -> None:
    """Console-script entry point."""
    app(prog_name="facegate")


if __name__ == "__main__":  # pragma: no cover
    main()
