"""What changed between two strategies, in words a risk committee can read.

Named lists (grades, segments, arms, rules) are matched by name and gates by
feature, so that moving or inserting one entry reads as that change and not as a
change of every entry after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from linewise.strategy.spec import StrategySpec

__all__ = ["describe_changes"]

# The key that names an entry of each list; lists not named here are compared whole.
_ENTRY_KEYS: dict[str, tuple[str, ...]] = {
    "grades": ("name",),
    "segments": ("name",),
    "arms": ("name",),
    "freeze": ("code",),
    "decrease": ("code",),
    "gates": ("feature", "op"),
}


def describe_changes(old: StrategySpec, new: StrategySpec) -> list[str]:
    """One sentence per change from ``old`` to ``new``; empty when they decide alike."""
    before = old.model_dump(mode="json", exclude={"description"})
    after = new.model_dump(mode="json", exclude={"description"})
    return list(_changes(before, after, ""))


def _changes(old: Any, new: Any, path: str) -> Iterator[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [*old, *(k for k in new if k not in old)]:
            child = f"{path}.{key}" if path else key
            if key not in new:
                yield f"{child} removed (was {_shown(old[key])})"
            elif key not in old:
                yield f"{child} added: {_shown(new[key])}"
            else:
                yield from _changes(old[key], new[key], child)
        return
    key = _ENTRY_KEYS.get(path.rsplit(".", 1)[-1].split("[", 1)[0])
    if (
        isinstance(old, list)
        and isinstance(new, list)
        and key is not None
        and all(isinstance(e, dict) and set(key) <= set(e) for e in [*old, *new])
    ):
        yield from _entry_changes(old, new, path, key)
        return
    if old != new:
        yield f"{path}: {_shown(old)} → {_shown(new)}{_direction(old, new)}"


def _entry_changes(
    old: list[dict[str, Any]], new: list[dict[str, Any]], path: str, key: tuple[str, ...]
) -> Iterator[str]:
    before = {" ".join(str(e[k]) for k in key): e for e in old}
    after = {" ".join(str(e[k]) for k in key): e for e in new}
    for name, entry in before.items():
        if name not in after:
            yield f"{path}: {name} removed ({_shown(entry)})"
        else:
            yield from _changes(entry, after[name], f"{path}[{name}]")
    for name, entry in after.items():
        if name not in before:
            yield f"{path}: {name} added ({_shown(entry)})"
    common_before = [name for name in before if name in after]
    common_after = [name for name in after if name in before]
    if common_before != common_after:
        yield f"{path}: order {', '.join(common_before)} → {', '.join(common_after)}"


def _direction(old: Any, new: Any) -> str:
    try:
        a, b = Decimal(str(old)), Decimal(str(new))
    except ArithmeticError:
        return ""
    if isinstance(old, bool) or isinstance(new, bool) or not a.is_finite() or not b.is_finite():
        return ""
    return " (raised)" if b > a else " (lowered)" if b < a else ""


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_shown(v)}" for k, v in value.items() if v not in (None, [], {}))
    if isinstance(value, list):
        return "[" + "; ".join(_shown(v) for v in value) + "]"
    return str(value)
