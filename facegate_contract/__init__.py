"""The wire contract shared by facegate's three roles: the deployer (`services`), the device (`pi_app`) and the
recognizer Lambda (`recognizer`).

Each role installs alone and none imports another; what they must agree on lives here, and this package imports
nothing of ours:

| module | owns |
|---|---|
| `api` | the device API's routes, headers and limits |
| `wire` | the typed objects that cross the API (face, box, answers, requests, visit reports) and their JSON codecs |
| `device_events` | the device's events (its event bus and `events.jsonl`): typed, tagged by `event`, with their codec |
| `naming` | person labels, device, clip and visit ids, S3 keys and prefixes |
| `environment` | the Lambdas' `FACEGATE_*` environment names |
| `items` | how the tables' items read back |
| `files` | the deploy outputs and device files, and where a stack's API lives |
| `logs` | the JSON log format |
| `aws` | the boto3 sessions that reach a stack |

The names below are re-exported so `from facegate_contract import X` keeps working.
"""
from __future__ import annotations

from facegate_contract.api import *  # noqa: F403
from facegate_contract.aws import *  # noqa: F403
from facegate_contract.environment import *  # noqa: F403
from facegate_contract.files import *  # noqa: F403
from facegate_contract.items import *  # noqa: F403
from facegate_contract.logs import *  # noqa: F403
from facegate_contract.naming import *  # noqa: F403
