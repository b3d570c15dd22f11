"""Small view helpers of the pages: what a template shows, shaped from what the application layer returned.

Presentation only: counts and labels of what the ledger and the decision log said,
never a figure of a decision's own making.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from linewise.explain.formatting import Language, feature_value
from linewise.features import REGISTRY
from linewise.ledger.bureau import CLOSED, NOT_OPEN, ON_TIME, history_month_ends
from linewise.service.schemas.lines import StatementOut

__all__ = [
    "Cell",
    "CriteriaSection",
    "FeatureRow",
    "OnTimeRecord",
    "criteria_sections",
    "feature_rows",
    "history_cells",
    "history_counts",
    "notice_blocks",
    "on_time_record",
    "safe_next",
]


@dataclass(frozen=True)
class OnTimeRecord:
    """Instalments that have fallen due on the line: how many, how many were paid on time, how many late."""

    due: int
    on_time: int
    late: int


def on_time_record(statement: StatementOut) -> OnTimeRecord:
    """The line's on-time record from its statement (an instalment not yet known to be on time or late is left out)."""
    flags = [i.on_time for d in statement.drawdowns for i in d.instalments if i.on_time is not None]
    return OnTimeRecord(due=len(flags), on_time=sum(flags), late=len(flags) - sum(flags))


@dataclass(frozen=True)
class Cell:
    """One month of a repayment history: its symbol, its kind (a CSS class) and the month it stands for."""

    month: str
    symbol: str
    kind: str


def _kind(symbol: str) -> str:
    if symbol == ON_TIME:
        return "on-time"
    if symbol == NOT_OPEN:
        return "not-open"
    if symbol == CLOSED:
        return "closed"
    return "late"


def history_cells(history: str, month: date) -> list[Cell]:
    """The 24 months of a bureau record's history string (oldest first), each with its month (YYYY-MM)."""
    ends = history_month_ends(month)
    return [Cell(f"{end:%Y-%m}", symbol, _kind(symbol)) for end, symbol in zip(ends, history, strict=False)]


def history_counts(history: str) -> dict[str, int]:
    """How many months of a history are on time, late, not yet open and closed (the keys of :func:`_kind`)."""
    counts = dict.fromkeys(("on-time", "late", "not-open", "closed"), 0)
    for symbol in history:
        counts[_kind(symbol)] += 1
    return counts


_NUMBERED = re.compile(r"([0-9]+)\. (.*)")


def notice_blocks(notice: str, recourse: str | None) -> list[tuple[str, list[str]]]:
    """A decision's notice as blocks to show.

    ``lead`` (its first line), ``paragraph``, ``list`` (its numbered reasons) and
    ``recourse`` (what would raise the line).
    """
    first, *rest = notice.split("\n")
    blocks: list[tuple[str, list[str]]] = [("lead", [first])]
    for line in rest:
        numbered = _NUMBERED.fullmatch(line)
        if numbered is not None:
            if blocks[-1][0] == "list":
                blocks[-1][1].append(numbered[2])
            else:
                blocks.append(("list", [numbered[2]]))
        elif recourse is not None and line == recourse:
            blocks.append(("recourse", [line]))
        else:
            blocks.append(("paragraph", [line]))
    return blocks


@dataclass(frozen=True)
class CriteriaSection:
    """A section of the published criteria: its heading and its blocks, each a paragraph or a list."""

    heading: str
    blocks: list[tuple[str, list[str]]]


def criteria_sections(text: str) -> tuple[str, list[CriteriaSection]]:
    """The criteria text (:func:`linewise.explain.criteria.render_criteria`) as its title and sections.

    The text is a title, then sections parted by blank lines, each a heading and lines,
    of which those starting ``- `` are items of a list.
    """
    title, *rest = text.split("\n\n")
    sections = []
    for part in rest:
        heading, *lines = part.split("\n")
        blocks: list[tuple[str, list[str]]] = []
        for line in lines:
            if line.startswith("- "):
                if blocks and blocks[-1][0] == "list":
                    blocks[-1][1].append(line[2:])
                else:
                    blocks.append(("list", [line[2:]]))
            else:
                blocks.append(("paragraph", [line]))
        sections.append(CriteriaSection(heading, blocks))
    return title, sections


@dataclass(frozen=True)
class FeatureRow:
    """A feature a decision was made from: its name, what it is in the page's language, its value as read."""

    name: str
    description: str
    source: str
    shown: str


def feature_rows(features: dict[str, Any], currency: str, lang: Language) -> list[FeatureRow]:
    """The decision's features in the registry's order (then any other), each told in its unit."""
    known = [name for name in REGISTRY if name in features]
    others = sorted(name for name in features if name not in REGISTRY)
    rows = []
    for name in [*known, *others]:
        spec = REGISTRY.get(name)
        value = float(features[name])
        if spec is None:
            rows.append(FeatureRow(name, "", "", "unknown" if math.isnan(value) else f"{value:g}"))
            continue
        description = spec.description_zh if lang == "zh" else spec.description_en
        rows.append(FeatureRow(name, description, spec.source.value, feature_value(value, spec.unit, currency, lang)))
    return rows


def safe_next(target: str | None, root: str) -> str | None:
    """``target`` when it is a page of this site (a path under ``root``); None for anything else.

    A sign-in goes back to where it was asked for, and never to another site.
    """
    if not target or len(target) > 512:
        return None
    prefix = root.rstrip("/") + "/"
    if not target.startswith(prefix) or target.startswith("//") or "\\" in target or any(c < " " for c in target):
        return None
    return target
