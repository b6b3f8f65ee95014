"""Ids that are unique across restarts and devices and sort by time: a UTC stamp and a random suffix (the contract's
`stamped_id`, shared with the console's footage request ids)."""
from __future__ import annotations

from facegate_contract.naming import stamped_id  # noqa: F401 - re-exported
