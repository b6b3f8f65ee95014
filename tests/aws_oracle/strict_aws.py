"""A stricter AWS on loopback for the AWS branch of the code: moto over TLS with IAM enforced, a registry beside
it, and the Engine API proxy that lands pushes in moto's ECR.

`StrictAws` starts them and gives the environment a user with a real AWS account would have: a named profile
(`my-profile`, region eu-west-1) in `~/.aws/`, whose keys belong to an IAM user holding exactly the shipped
deployer policy; boto3 reaches the oracle through `AWS_ENDPOINT_URL` (never `--endpoint-url`, so the code
takes its AWS branch) and trusts its certificate through `AWS_CA_BUNDLE`. An admin client (every right) is kept
for the harness's own checks.

One more departure from AWS, handled here: moto checks a Lambda image URI against its ECR by the last path
segment only (`facegate/recognizer` → `recognizer`), so it cannot validate a namespaced repository. The oracle
runs with MOTO_LAMBDA_STUB_ECR and the test checks the functions' image in ECR itself.
"""
from __future__ import annotations

import datetime
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import boto3

from services.deployer_policy import POLICY_FILE

REGION = "eu-west-1"
PROFILE = "my-profile"
# Calls made before IAM is enforced: admin and deployer users, their policies and keys (bootstrap() makes them).
BOOTSTRAP_CALLS = 6
REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port nothing listens on now (loopback)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost (and its key), valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "facegate strict aws")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "oracle.crt", folder / "oracle.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _wait(check: Any, what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not start within {timeout_s:.0f} s")


class StrictAws:
    """moto (TLS, IAM enforced) + a loopback registry + the Engine API proxy, for one test session."""

    def __init__(self, engine_socket: str = "/var/run/docker.sock") -> None:
        self.engine_socket = engine_socket
        self.folder = Path(tempfile.mkdtemp(prefix="facegate-strict-aws-"))
        self.home = self.folder / "home"
        self.audit = self.folder / "iam-audit.jsonl"
        self.port = free_port()
        self.endpoint = f"https://127.0.0.1:{self.port}"
        self._processes: list[subprocess.Popen[bytes]] = []
        self.proxy: Any = None
        self.admin_keys: dict[str, str] = {}
        self.deployer_arn = ""

    # --- life cycle ---
    def __enter__(self) -> StrictAws:
        try:
            self.cert, key = self_signed_certificate(self.folder)
            self._start_moto(key)
            deployer_keys = self.bootstrap()
            self._write_profile(deployer_keys)
            self._start_registry_and_proxy()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proxy is not None:
            self.proxy.__exit__()
        for process in self._processes:  # ours, by PID
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _log(self, name: str) -> Any:
        return open(self.folder / f"{name}.log", "wb")  # noqa: SIM115 - handed to the child process

    def _start_moto(self, key: Path) -> None:
        env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(BOOTSTRAP_CALLS), "MOTO_LAMBDA_STUB_ECR": "TRUE",
               "FACEGATE_ORACLE_AUDIT": str(self.audit)}
        self._processes.append(subprocess.Popen(
            [sys.executable, "-m", "tests.aws_oracle.moto_server", "--port", str(self.port), "--cert", str(self.cert),
             "--key", str(key)], cwd=REPO_ROOT, env=env, stdout=self._log("moto"), stderr=subprocess.STDOUT))
        _wait(lambda: socket.create_connection(("127.0.0.1", self.port), timeout=1).close() is None, "moto")

    def client(self, service: str, keys: dict[str, str] | None = None) -> Any:
        """A boto3 client on the oracle (admin keys by default)."""
        keys = keys or self.admin_keys or {"aws_access_key_id": "bootstrap", "aws_secret_access_key": "bootstrap"}
        return boto3.client(service, region_name=REGION, endpoint_url=self.endpoint, verify=str(self.cert), **keys)

    def bootstrap(self) -> dict[str, str]:
        """Make the admin and the deployer (holding exactly services/data/deployer-policy.json); the deployer's
        keys. These are the oracle's only unauthenticated calls: IAM is enforced from the next one on."""
        iam = self.client("iam")
        keys = {}
        for user, policy in (("admin", {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*"}]}), ("deployer", json.loads(POLICY_FILE.read_text()))):
            iam.create_user(UserName=user)
            iam.put_user_policy(UserName=user, PolicyName=f"{user}-policy", PolicyDocument=json.dumps(policy))
            key = iam.create_access_key(UserName=user)["AccessKey"]
            keys[user] = {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
        self.admin_keys = keys["admin"]
        self.deployer_arn = self.client("iam").get_user(UserName="deployer")["User"]["Arn"]
        return keys["deployer"]

    def _write_profile(self, keys: dict[str, str]) -> None:
        aws = self.home / ".aws"
        aws.mkdir(parents=True)
        (aws / "config").write_text(f"[profile {PROFILE}]\nregion = {REGION}\n")
        (aws / "credentials").write_text(f"[{PROFILE}]\naws_access_key_id = {keys['aws_access_key_id']}\n"
                                         f"aws_secret_access_key = {keys['aws_secret_access_key']}\n")

    def _start_registry_and_proxy(self) -> None:
        from tests.aws_oracle.engine_proxy import EngineProxy

        registry_port = free_port()
        config = self.folder / "registry.yml"
        config.write_text(f"version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
                          f"    rootdirectory: {self.folder / 'registry'}\n"
                          f"http:\n  addr: 127.0.0.1:{registry_port}\n")
        binary = shutil.which("docker-registry") or "/usr/bin/docker-registry"
        self._processes.append(subprocess.Popen([binary, "serve", str(config)], stdout=self._log("registry"),
                                                stderr=subprocess.STDOUT))
        registry = f"127.0.0.1:{registry_port}"
        _wait(lambda: urllib.request.urlopen(f"http://{registry}/v2/", timeout=2).status == 200, "docker-registry")
        self.proxy = EngineProxy(str(self.folder / "engine.sock"), self.engine_socket, registry,
                                 self.client("ecr")).__enter__()

    # --- what the commands see ---
    def environment(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """The environment of a user with a real account, pointed at the oracle."""
        env = {k: v for k, v in (base if base is not None else os.environ).items()
               if not k.startswith(("AWS_", "FACEGATE_", "VIRTUAL_ENV", "DOCKER_HOST"))}
        env.update({"HOME": str(self.home), "AWS_ENDPOINT_URL": self.endpoint, "AWS_CA_BUNDLE": str(self.cert),
                    "DOCKER_HOST": f"unix://{self.folder / 'engine.sock'}",
                    # the emulator stack's own outputs and device files in the repository stay untouched
                    "FACEGATE_OUTPUTS": str(self.home / "facegate-state" / "outputs.json")})
        # The repository's venv must not leak into the fresh one the README makes.
        env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                      if not p.startswith(str(REPO_ROOT / ".venv")))
        return env

    def audit_records(self) -> list[dict[str, Any]]:
        """Every authorisation the oracle made so far."""
        if not self.audit.exists():
            return []
        return [json.loads(line) for line in self.audit.read_text().splitlines() if line.strip()]
