"""What the pages read that no other part of linewise reads yet: limit changes, the portfolio's mix, stored strategies.

Read-only queries of the ledger's and the decision log's own tables, each in one
snapshot and each bounded: a page shows at most so many rows, and the portfolio's
figures are sums the database makes, not rows sent to the service.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, func, select

from linewise.calendar import add_months
from linewise.ledger.store import read_snapshot
from linewise.ledger.store.tables import decisions, events, limit_history, lines, strategies

__all__ = [
    "DECISIONS_SHOWN",
    "LIMIT_CHANGES_SHOWN",
    "STRATEGIES_SHOWN",
    "DecisionRow",
    "LimitChange",
    "Portfolio",
    "limit_changes",
    "portfolio",
    "recent_decisions",
    "stored_strategies",
    "strategy_text",
]

# A line changes limit a few times a year: fifty changes are a decade of them.
LIMIT_CHANGES_SHOWN = 50
# The console lists the newest decisions; older ones are reached by account.
DECISIONS_SHOWN = 30
# Strategies offered for a diff, newest first.
STRATEGIES_SHOWN = 200
# Months of limit added the console charts, this month last.
CHART_MONTHS = 12


@dataclass(frozen=True)
class LimitChange:
    """A limit the line had from ``effective_on``: how it came (opened, a decision, by hand) and the one before."""

    effective_on: date
    credit_limit: int
    previous: int | None
    how: str
    decision_ref: str | None


def limit_changes(engine: Engine, account_id: str) -> list[LimitChange]:
    """The line's limits, newest first (at most LIMIT_CHANGES_SHOWN), from the ledger's limit history.

    The history is the ledger's projection of its events (a reversed change is not in
    it); each row is joined to the event that set it for how it came.
    """
    query = (
        select(
            limit_history.c.effective_on,
            limit_history.c.credit_limit,
            events.c.kind,
            events.c.decision_ref,
        )
        .join(
            events,
            (events.c.account_id == limit_history.c.account_id)
            & (events.c.idempotency_key == limit_history.c.event_key),
            isouter=True,
        )
        .where(limit_history.c.account_id == account_id)
        .order_by(limit_history.c.effective_on.desc(), limit_history.c.id.desc())
        .limit(LIMIT_CHANGES_SHOWN + 1)
    )
    with read_snapshot(engine) as conn:
        rows = conn.execute(query).all()
    changes = []
    for row, before in zip(rows, [*rows[1:], None], strict=True):
        how = "opened" if row.kind == "line_opened" else "decision" if row.decision_ref else "by_hand"
        previous = None if before is None else int(before.credit_limit)
        changes.append(LimitChange(row.effective_on, int(row.credit_limit), previous, how, row.decision_ref))
    return changes[:LIMIT_CHANGES_SHOWN]


@dataclass(frozen=True)
class Portfolio:
    """The book at a glance, as the console charts it.

    Lines by status; the latest decision of each line by action and by risk grade; and
    the limit that decisions and staff added in each of the last CHART_MONTHS months,
    per currency.
    """

    lines_by_status: dict[str, int]
    actions: dict[str, int]
    grades: dict[str, int]
    limit_added: dict[str, list[tuple[str, int]]]


def portfolio(engine: Engine, today: date) -> Portfolio:
    """The :class:`Portfolio` as the ledger and the decision log hold it on ``today``."""
    with read_snapshot(engine) as conn:
        statuses = conn.execute(select(lines.c.status, func.count()).group_by(lines.c.status)).all()
        mix = conn.execute(_latest_mix()).all()
        added = conn.execute(_limit_added(_first_month(today))).all()
    actions: dict[str, int] = defaultdict(int)
    grades: dict[str, int] = defaultdict(int)
    for action, grade, count in mix:
        actions[str(action)] += int(count)
        grades[str(grade)] += int(count)
    return Portfolio(
        lines_by_status={str(status): int(count) for status, count in sorted(statuses)},
        actions=dict(actions),
        grades=dict(sorted(grades.items())),
        limit_added=_by_month(added, today),
    )


def _latest_mix() -> Any:
    """Count of each line's latest decision (newest as-of, then newest logged) by action and risk grade."""
    rank = (
        func.row_number()
        .over(partition_by=decisions.c.account_id, order_by=(decisions.c.as_of.desc(), decisions.c.id.desc()))
        .label("rank")
    )
    latest = select(decisions.c.action, decisions.c.risk_grade, rank).subquery()
    return (
        select(latest.c.action, latest.c.risk_grade, func.count())
        .where(latest.c.rank == 1)
        .group_by(latest.c.action, latest.c.risk_grade)
    )


def _first_month(today: date) -> date:
    return add_months(today.replace(day=1), -(CHART_MONTHS - 1))


def _limit_added(since: date) -> Any:
    """Per day and currency since ``since``, the sum of every raise of a limit over the one before it."""
    previous = func.lag(limit_history.c.credit_limit).over(
        partition_by=limit_history.c.account_id, order_by=(limit_history.c.effective_on, limit_history.c.id)
    )
    steps = select(
        limit_history.c.account_id,
        limit_history.c.effective_on,
        (limit_history.c.credit_limit - previous).label("step"),
    ).subquery()
    return (
        select(steps.c.effective_on, lines.c.currency, func.sum(steps.c.step))
        .join(lines, lines.c.account_id == steps.c.account_id)
        .where(steps.c.step > 0, steps.c.effective_on >= since)
        .group_by(steps.c.effective_on, lines.c.currency)
    )


def _by_month(rows: Any, today: date) -> dict[str, list[tuple[str, int]]]:
    months = [f"{add_months(_first_month(today), i):%Y-%m}" for i in range(CHART_MONTHS)]
    sums: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(months, 0))
    for day, currency, added in rows:
        month = f"{day:%Y-%m}"
        if month in sums[str(currency)]:
            sums[str(currency)][month] += int(added)
    return {currency: list(by_month.items()) for currency, by_month in sorted(sums.items())}


@dataclass(frozen=True)
class DecisionRow:
    """One logged decision as the console lists it (``currency`` None for a line the ledger does not hold)."""

    run: int
    account_id: str
    as_of: date
    trigger: str
    action: str
    current_limit: int
    new_limit: int
    risk_grade: str
    currency: str | None


def recent_decisions(engine: Engine, account_id: str | None = None) -> list[DecisionRow]:
    """The newest DECISIONS_SHOWN logged decisions, of one line when ``account_id`` is given."""
    query = (
        select(
            decisions.c.run_id,
            decisions.c.account_id,
            decisions.c.as_of,
            decisions.c.trigger,
            decisions.c.action,
            decisions.c.current_limit,
            decisions.c.new_limit,
            decisions.c.risk_grade,
            lines.c.currency,
        )
        .join(lines, lines.c.account_id == decisions.c.account_id, isouter=True)
        .order_by(decisions.c.id.desc())
        .limit(DECISIONS_SHOWN)
    )
    if account_id is not None:
        query = query.where(decisions.c.account_id == account_id)
    with read_snapshot(engine) as conn:
        rows = conn.execute(query).all()
    return [
        DecisionRow(
            run=int(row.run_id),
            account_id=str(row.account_id),
            as_of=row.as_of,
            trigger=str(row.trigger),
            action=str(row.action),
            current_limit=int(row.current_limit),
            new_limit=int(row.new_limit),
            risk_grade=str(row.risk_grade),
            currency=row.currency,
        )
        for row in rows
    ]


def stored_strategies(engine: Engine) -> list[tuple[str, datetime]]:
    """The strategies the decision log holds (ref, when stored), newest first, at most STRATEGIES_SHOWN."""
    query = (
        select(strategies.c.ref, strategies.c.stored_at)
        .order_by(strategies.c.stored_at.desc(), strategies.c.ref.desc())
        .limit(STRATEGIES_SHOWN)
    )
    with read_snapshot(engine) as conn:
        return [(str(ref), stored_at) for ref, stored_at in conn.execute(query).all()]


def strategy_text(engine: Engine, ref: str) -> str | None:
    """The text stored under ``ref`` (``id@version``); None when the log holds no such strategy."""
    with read_snapshot(engine) as conn:
        found = conn.execute(select(strategies.c.text).where(strategies.c.ref == ref)).scalar_one_or_none()
    return None if found is None else str(found)
