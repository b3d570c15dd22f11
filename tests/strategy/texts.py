"""Strategy texts for the tests: the shipped default and exact edits of it."""

from __future__ import annotations

import pytest

from linewise.errors import Problem, StrategyValidationError
from linewise.strategy import default_strategy_text, read_strategy

DEFAULT = default_strategy_text()


def edit(text: str, old: str, new: str) -> str:
    """``text`` with its one occurrence of ``old`` replaced by ``new``."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def edited(*pairs: tuple[str, str]) -> str:
    """The default with each ``(old, new)`` edit applied in turn."""
    text = DEFAULT
    for old, new in pairs:
        text = edit(text, old, new)
    return text


def line_of(text: str, fragment: str) -> int:
    """The 1-based line of the one line of ``text`` that contains ``fragment``."""
    found = [number for number, line in enumerate(text.splitlines(), start=1) if fragment in line]
    assert len(found) == 1, f"{fragment!r} is on lines {found}"
    return found[0]


def problems_of(text: str, source: str = "s.yaml") -> list[Problem]:
    """The problems reading ``text`` raises (it must be refused)."""
    with pytest.raises(StrategyValidationError) as caught:
        read_strategy(text, source)
    return caught.value.problems
