"""Read a parsed TOML table field by field, collecting every problem instead of stopping at the first.

A person fixing a config file wants the whole list at once, each problem named by its dotted path
(`outputs.green_led.pin: ...`), and a misspelt key reported rather than silently ignored.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_MISSING = object()


class TableReader:
    """One table of the config: typed getters that record problems under this table's path."""

    def __init__(self, data: Any, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        if not isinstance(data, dict):
            self.problem("", f"expected a table, got {_kind(data)}")
            data = {}
        self.data: dict[str, Any] = data
        self._read: set[str] = set()

    def where(self, key: str) -> str:
        """The dotted path of `key` in this table."""
        return f"{self.path}.{key}" if self.path else key

    def problem(self, key: str, message: str) -> None:
        """Record a problem with `key` (or with the table itself when `key` is empty)."""
        self.problems.append(f"{self.where(key) if key else self.path or '(top level)'}: {message}")

    def has(self, key: str) -> bool:
        """True when the table sets `key`."""
        return key in self.data

    def _get(self, key: str, default: Any) -> Any:
        self._read.add(key)
        if key in self.data:
            return self.data[key]
        if default is _MISSING:
            self.problem(key, "is required")
        return default

    def number(self, key: str, default: Any = _MISSING, *, minimum: float | None = None, above: float | None = None,
               maximum: float | None = None) -> float | None:
        """A number (int or float, never a boolean) within the given bounds; None when absent or wrong."""
        value = self._get(key, default)
        if value is _MISSING or value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.problem(key, f"expected a number, got {_kind(value)}")
            return None
        if above is not None and not value > above:
            self.problem(key, f"must be more than {above:g}, got {value:g}")
        elif minimum is not None and value < minimum:
            self.problem(key, f"must be {minimum:g} or more, got {value:g}")
        elif maximum is not None and value > maximum:
            self.problem(key, f"must be {maximum:g} or less, got {value:g}")
        else:
            return float(value)
        return None

    def integer(self, key: str, default: Any = _MISSING, *, minimum: int, maximum: int, what: str) -> int | None:
        """A whole number in [minimum, maximum]; `what` names the range in the message (e.g. "a BCM GPIO number")."""
        value = self._get(key, default)
        if value is _MISSING or value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            self.problem(key, f"{value!r} is not {what} ({minimum}-{maximum})")
            return None
        return value

    def text(self, key: str, default: Any = _MISSING, *, choices: Iterable[str] | None = None) -> str | None:
        """A non-empty string, one of `choices` when given."""
        value = self._get(key, default)
        if value is _MISSING or value is None:
            return None
        if not isinstance(value, str) or not value:
            self.problem(key, f"expected a non-empty string, got {_kind(value)}")
            return None
        allowed = list(choices or [])
        if allowed and value not in allowed:
            self.problem(key, f"{value!r} is not one of {', '.join(allowed)}")
            return None
        return value

    def flag(self, key: str, default: bool) -> bool:
        """A boolean (true / false)."""
        value = self._get(key, default)
        if not isinstance(value, bool):
            self.problem(key, f"expected true or false, got {_kind(value)}")
            return default
        return value

    def strings(self, key: str) -> dict[str, str]:
        """A table of string values (e.g. HTTP headers); empty when absent."""
        value = self._get(key, {})
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            self.problem(key, "expected a table of strings")
            return {}
        return dict(value)

    def table(self, key: str) -> TableReader | None:
        """The sub-table `key`, or None when absent."""
        value = self._get(key, None)
        return None if value is None else TableReader(value, self.where(key), self.problems)

    def tables(self, key: str) -> list[TableReader]:
        """An array of tables (`[{...}, {...}]`); empty when absent."""
        value = self._get(key, [])
        if not isinstance(value, list):
            self.problem(key, f"expected a list of tables, got {_kind(value)}")
            return []
        return [TableReader(item, f"{self.where(key)}[{n}]", self.problems) for n, item in enumerate(value)]

    def subtables(self) -> dict[str, TableReader]:
        """Every key of this table as a sub-table (for tables keyed by a free name, like [outputs.NAME])."""
        self._read.update(self.data)
        return {name: TableReader(value, self.where(name), self.problems) for name, value in self.data.items()}

    def finish(self, hints: dict[str, str] | None = None) -> None:
        """Report every key that was never read: a misspelling must not be silently ignored.

        `hints` gives a better message for keys that are known but not allowed here.
        """
        for key in self.data:
            if key not in self._read:
                self.problem(key, (hints or {}).get(key, "unknown key"))


def _kind(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
            dict: "a table"}.get(type(value), type(value).__name__)
