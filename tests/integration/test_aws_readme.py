"""README's "Deploying to real AWS", run verbatim against a stricter AWS than the emulator.

The section's bash blocks run in one shell, word for word, as a user with a real account would: a fresh venv
from `pip install '.[deploy]'`, a named profile, no `--endpoint-url` (so every command takes its AWS branch).
Behind them is `tests/aws_oracle`: moto in server mode over TLS, IAM enforced, the deployer holding exactly
`services/data/deployer-policy.json`, and ECR pushes landing in moto through the Engine API proxy. A request AWS
would refuse (an integration URI in the wrong form, an action the policy does not grant) fails here.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from services import deployer_policy
from services.local_stack import docker_usable
from tests.aws_oracle.strict_aws import StrictAws
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

SECTION = "## Deploying to real AWS"
LOCAL_IMAGE = "facegate/recognizer:latest"
MARK = "@@readme-step"
# Actions the policy grants that a first deploy, a second one, the device, enrolment and destroy commands do not
# call here, each only on a path this walk-through does not take (the drift and update branches of deploy).
UPDATE_PATHS_ONLY = {
    "lambda:UpdateFunctionCode": "a new image or architecture",
    "lambda:UpdateFunctionConfiguration": "configuration drift",
    "lambda:RemovePermission": "a permission with another source ARN",
    "lambda:DeleteFunctionConcurrency": "reserved concurrency removed",
    "lambda:PutFunctionConcurrency": "reserved concurrency set (--reserved-concurrency)",
    "iam:UpdateAssumeRolePolicy": "a drifted trust policy",
    "apigateway:PATCH": "a drifted route, integration or stage",
    "dynamodb:UpdateItem": "the console's edits of a person",
    "s3:DeleteObject": "facegate forget (a person's photos)",
}
# Granted for what moto does not authorise at all: `docker push` speaks the registry protocol (the Engine API proxy
# takes it, moto serves only ECR's API), and Lambda checks the caller's right to read the image it is given.
NOT_AUTHORISED_BY_MOTO = {"ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
                          "ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:GetDownloadUrlForLayer"}


@dataclass
class Step:
    """One README command and what it printed."""

    command: str
    output: str


def readme_commands(readme: Path = ROOT / "README.md") -> list[str]:
    """The shell commands of README's real-AWS section, in order (continuation lines joined)."""
    text = readme.read_text(encoding="utf-8")
    section = text[text.index(SECTION):]
    section = section[:section.index("\n## ", len(SECTION))]
    commands: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", section, flags=re.S):
        pending = ""
        for line in block.splitlines():
            pending += line
            if pending.endswith("\\"):
                pending = pending[:-1] + " "
                continue
            if pending.strip():
                commands.append(pending.strip())
            pending = ""
    return commands


def run_section(aws: StrictAws, commands: list[str]) -> tuple[list[Step], int, str]:
    """Run the commands in one bash, as written; (steps, exit code, whole output)."""
    # `pip install .` builds in the tree; setuptools never empties build/lib, so a module since removed would ship
    # again from an earlier run's copy. A fresh clone has none: make this checkout look like one.
    shutil.rmtree(ROOT / "build", ignore_errors=True)
    script = "set -euo pipefail\n" + "".join(f"echo '{MARK} {i}'\n{command}\n" for i, command in enumerate(commands))
    env = aws.environment()
    env.update({"COLUMNS": "250", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                # harness, not README: reuse this machine's download cache in the fresh HOME
                "PIP_CACHE_DIR": str(Path(os.environ.get("HOME", "/root")) / ".cache" / "pip")})
    pyenv = Path(os.environ.get("HOME", "/root")) / ".pyenv"
    if pyenv.is_dir():
        env.setdefault("PYENV_ROOT", str(pyenv))
    result = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, timeout=1500)
    parts = re.split(rf"^{MARK} (\d+)$", result.stdout, flags=re.M)
    steps = [Step(commands[int(index)], output) for index, output in zip(parts[1::2], parts[2::2])]
    return steps, result.returncode, result.stdout


@pytest.fixture(scope="module")
def strict_aws() -> Iterator[StrictAws]:
    missing = [what for what, ok in (("docker engine", docker_usable()),
                                     ("docker-registry (apt-get install docker-registry)",
                                      shutil.which("docker-registry") is not None)) if not ok]
    if missing:
        if os.environ.get("FACEGATE_REQUIRE_DOCKER") == "1":
            pytest.fail(f"the strict AWS needs {', '.join(missing)}")
        pytest.skip(f"the strict AWS needs {', '.join(missing)}")
    with StrictAws() as aws:
        yield aws


def _image_id(ref: str) -> str | None:
    found = subprocess.run(["docker", "image", "inspect", "-f", "{{.Id}}", ref], capture_output=True, text=True)
    return found.stdout.strip() or None


@pytest.fixture(scope="module")
def walkthrough(strict_aws: StrictAws) -> Iterator[list[Step]]:
    # README's `docker compose build recognizer` retags the local image (the AWS flavour, another id):
    # the rest of the suite keeps the image it deployed to the emulator, so the tag is put back afterwards.
    before = _image_id(LOCAL_IMAGE)
    started = time.monotonic()
    try:
        steps, code, output = run_section(strict_aws, readme_commands())
    finally:
        if before is not None:
            subprocess.run(["docker", "tag", before, LOCAL_IMAGE], check=True)
    assert code == 0, f"a README command failed (exit {code}):\n{output[-6000:]}"
    print(f"README real-AWS section: {len(steps)} commands in {time.monotonic() - started:.0f} s")
    yield steps


def test_the_section_walks_the_whole_life_of_a_stack() -> None:
    words = [c.split()[:3] for c in readme_commands()]
    subcommands = [w[1] if w[1] != "device" else f"device {w[2]}" for w in words if w[0] == "facegate"]
    assert subcommands == ["deploy", "status", "deploy", "device add", "device list", "sightings", "enroll", "people",
                           "device remove", "destroy"]
    assert not any("--endpoint-url" in c for c in readme_commands())


def _step(steps: list[Step], prefix: str, nth: int = 0) -> Step:
    return [s for s in steps if s.command.startswith(prefix)][nth]


def test_deploy_creates_everything_and_a_second_deploy_changes_nothing(walkthrough: list[Step],
                                                                         strict_aws: StrictAws) -> None:
    first, second = _step(walkthrough, "facegate deploy"), _step(walkthrough, "facegate deploy", 1)
    assert "stack deployed" in first.output and "execute-api.eu-west-1.amazonaws.com/live/recognize" in first.output
    assert "no changes" in second.output
    [pushed] = strict_aws.proxy.pushes  # pushed once, through ECR's registry; the second deploy found the tag
    assert pushed.startswith("123456789012.dkr.ecr.eu-west-1.amazonaws.com/facegate/recognizer:img-")
    # moto cannot check a namespaced repository's image URI: the harness checks both functions run the push.
    assert first.output.count(pushed) >= 3, first.output  # the ecr image row and both functions' rows


def test_status_shows_every_resource_present(walkthrough: list[Step]) -> None:
    status = _step(walkthrough, "facegate status").output
    rows = [line for line in status.splitlines() if line.startswith("│")]
    assert len(rows) >= 14 and all("│ yes" in row for row in rows if "│ no " not in row)
    assert not any("│ no " in row for row in rows), status


def test_devices_are_added_listed_and_removed(walkthrough: list[Step]) -> None:
    assert "device door-1 added" in _step(walkthrough, "facegate device add").output
    assert "door-1" in _step(walkthrough, "facegate device list").output
    assert re.search(r"door-1.*deleted", _step(walkthrough, "facegate device remove").output)


def test_sightings_and_enrolment_work_on_the_aws_branch(walkthrough: list[Step]) -> None:
    assert "visits (0)" in _step(walkthrough, "facegate sightings").output
    assert "enrolled Eileen_Collins from 4 image(s)" in _step(walkthrough, "facegate enroll").output
    assert "Eileen_Collins" in _step(walkthrough, "facegate people").output


def test_destroy_leaves_nothing_of_any_kind(walkthrough: list[Step], strict_aws: StrictAws) -> None:
    assert "nothing left behind" in _step(walkthrough, "facegate destroy").output
    aws = strict_aws.client
    left = {
        "buckets": [b["Name"] for b in aws("s3").list_buckets()["Buckets"]],
        "tables": aws("dynamodb").list_tables()["TableNames"],
        "functions": [f["FunctionName"] for f in aws("lambda").list_functions()["Functions"]],
        "roles": [r["RoleName"] for r in aws("iam").list_roles()["Roles"]],
        "log groups": [g["logGroupName"] for g in aws("logs").describe_log_groups()["logGroups"]],
        "repositories": [r["repositoryName"] for r in aws("ecr").describe_repositories()["repositories"]],
        "http apis": [a["Name"] for a in aws("apigatewayv2").get_apis()["Items"]],
    }
    assert not any(left.values()), left


def test_the_deployer_policy_grants_what_the_commands_use_and_no_more(walkthrough: list[Step],
                                                                        strict_aws: StrictAws) -> None:
    records = [r for r in strict_aws.audit_records() if r["principal"] == strict_aws.deployer_arn]
    assert records and all(r["allowed"] for r in records), [r for r in records if not r["allowed"]]
    used = {r["action"] for r in records} - {"sts:GetCallerIdentity"}  # needs no permission on AWS
    granted = {a for s in json.loads(deployer_policy.POLICY_FILE.read_text())["Statement"] for a in s["Action"]}
    assert used <= granted
    unused = granted - used - NOT_AUTHORISED_BY_MOTO
    assert unused <= set(UPDATE_PATHS_ONLY), f"granted but never used: {sorted(unused - set(UPDATE_PATHS_ONLY))}"
    assert any(r["action"] == "iam:PassRole" for r in records)  # checked as AWS checks it
