"""`facegate console`: serve the web console on 127.0.0.1 (unless told otherwise) for one deployed stack."""
from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any, Annotated, Optional

import typer
import uvicorn
from botocore.exceptions import ClientError
from rich.console import Console

from facegate_cli.console.app import LOOPBACK_HOSTS, create_app
from facegate_cli.console.backend import ConsoleBackend
from services.console_login import PASSWORD_ENV, PASSWORD_FILE
from facegate_contract.settings import ENV_ENDPOINT_URL, ENV_PUBLIC_ENDPOINT_URL

stderr = Console(stderr=True)


class StackMissing(Exception):
    """The outputs name a stack that is not there (destroyed, or another endpoint)."""

    friendly = True
    exit_code = 2


class NoConsolePassword(Exception):
    """The stack has no console login yet."""

    friendly = True
    exit_code = 2


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def console(
    outputs: Annotated[Optional[Path], typer.Option("--outputs", help="Deploy outputs file (default .facegate/outputs.json).")] = None,
    endpoint_url: Annotated[Optional[str], typer.Option("--endpoint-url", envvar=ENV_ENDPOINT_URL,
                                                        help="Reach the emulator at this URL instead of the outputs' one.")] = None,
    profile: Annotated[Optional[str], typer.Option("--profile", envvar="AWS_PROFILE", help="AWS named profile.")] = None,
    host: Annotated[str, typer.Option(help="Address to listen on; anything but loopback is reachable from other machines.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8080,
    public_endpoint_url: Annotated[Optional[str], typer.Option(
        envvar=ENV_PUBLIC_ENDPOINT_URL,
        help="Emulator URL the browser reaches, for clip links (when the console reaches it by another name).")] = None,
    secure_cookies: Annotated[bool, typer.Option("--secure-cookies", help="Mark the session cookie Secure (behind HTTPS).")] = False,
    allowed_host: Annotated[Optional[list[str]], typer.Option(
        "--allowed-host", help="Another Host name the console answers to (repeatable); 127.0.0.1, localhost and "
                               "--host always are.")] = None,
    forwarded_allow_ips: Annotated[Optional[str], typer.Option(
        "--forwarded-allow-ips", help="Trust X-Forwarded-For/-Proto from these proxy addresses (comma-separated); "
                                      "by default no header is trusted and the login brake keys on the socket peer.")] = None,
) -> None:
    """Serve the web console: visits with clips, the face library, strangers to review and enrol."""
    backend = ConsoleBackend.open(outputs, endpoint_url, profile, public_endpoint_url)
    try:
        record = backend.login_record()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchBucket":
            raise
        raise StackMissing(f"the stack's bucket {backend.outputs.bucket} does not exist at {backend.describe()}: "
                           "deploy the stack first (facegate deploy)") from exc
    if record is None:
        raise NoConsolePassword(f"no console password is set for this stack: run `facegate deploy` (the first deploy "
                                f"generates one into {PASSWORD_FILE} beside the outputs file) or deploy with "
                                f"{PASSWORD_ENV} set")
    if not _loopback(host):
        stderr.print(f"[yellow]listening on {host}: other machines can reach the console; it speaks plain HTTP, so "
                      "put it behind TLS (and pass --secure-cookies) beyond a trusted network[/]")
    backend.keep_review_ready()  # loads the face pipeline first, then embeds new strangers' faces every 20 s
    backend.keep_thumbnails_ready()  # a listed visit has its face at first paint
    hosts = list(dict.fromkeys([*LOOPBACK_HOSTS, host, *(allowed_host or [])]))
    app = create_app(backend, secure_cookies=secure_cookies, allowed_hosts=hosts)
    stderr.print(f"facegate console for {backend.describe()}: http://{'localhost' if _loopback(host) else host}:{port}/")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, server_header=False,
                **proxy_options(forwarded_allow_ips))


def proxy_options(forwarded_allow_ips: str | None) -> dict[str, Any]:
    """uvicorn's proxy settings: off unless proxies are named (its default trusts X-Forwarded-For from 127.0.0.1,
    which lets a local client pick the address the login brake counts)."""
    if not forwarded_allow_ips:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": forwarded_allow_ips}
