"""Logged runs read back: their strategy, context and history, replays, notices and samples."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from linewise.decide import replay
from linewise.errors import InputError
from linewise.explain.formatting import Language
from linewise.explain.notice import (
    analyst_reasons,
    months_due,
    render_notice,
    repaid_on_time,
)
from linewise.features.projection import History, history_from_records
from linewise.ledger.store.decision_log import StoredRun
from linewise.models.base import RiskModel
from linewise.review.log import DecisionLog
from linewise.strategy import read_strategy
from linewise.strategy.compiled import Strategy, compile_strategy
from linewise.strategy.evaluate import Context

__all__ = [
    "Notice",
    "Replayed",
    "notice_of",
    "replay_run",
    "sample_positions",
    "stored_context",
    "stored_history",
    "stored_strategy",
]


def stored_strategy(stored: StoredRun) -> Strategy:
    """The strategy a logged run was decided by, from the text stored with it."""
    return compile_strategy(read_strategy(stored.strategy_text, stored.strategy_ref))


def stored_context(stored: StoredRun) -> Context:
    """The context a logged run was decided in."""
    requests = stored.context["requests_in_window"]
    so_far = stored.context.get("month_so_far")
    return Context(
        as_of=stored.as_of,
        trigger=stored.trigger,
        last_limit_change_on=stored.context["last_limit_change_on"],
        requests_in_window=requests if requests.notna().any() else None,
        month_so_far=bool(so_far is not None and so_far.fillna(False).astype(bool).any()),
    )


def stored_history(stored: StoredRun) -> History | None:
    """The history a logged run's recourse was lived on (None for a run without recourse)."""
    if not stored.with_recourse:
        return None
    if stored.history is None:
        raise InputError.for_field(
            "history_missing",
            where=f"run {stored.run_id}",
            field="history",
            rule="stored with a run whose recourse is replayed (runs logged before linewise "
            "lived recourse on the history cannot replay it; decide them again)",
            value=None,
        )
    return history_from_records(stored.history, [str(a) for a in stored.decisions["account_id"]], stored.as_of)


@dataclass(frozen=True)
class Replayed:
    """A run decided again: the run and one row per difference (``account_id, column, stored, replayed``)."""

    run: StoredRun
    differences: pd.DataFrame


def replay_run(
    log: DecisionLog, run_id: int | None, *, model: RiskModel, model_ref: str, model_source: str
) -> Replayed:
    """Decide run ``run_id`` (the newest when None) again from what it stored, with ``model``.

    Raises InputError (``model_mismatch``) when ``model_ref`` is not the model the run
    was decided with.
    """
    stored = log.load_run(run_id)
    if model_ref != stored.model_ref:
        raise InputError.for_field(
            "model_mismatch",
            where=model_source,
            field="model",
            rule=f"the model run {stored.run_id} was decided with, {stored.model_ref}",
            value=model_ref,
        )
    differences = replay(
        stored.decisions,
        stored.features,
        stored_context(stored),
        model=model,
        model_ref=stored.model_ref,
        strategy=stored_strategy(stored),
        history=stored_history(stored),
        recourse=stored.with_recourse,
    )
    return Replayed(stored, differences)


@dataclass(frozen=True)
class Notice:
    """A logged decision as the customer is told it (and, when asked, as the risk team reads it)."""

    row: dict[str, Any]
    text: str
    analyst: list[str]
    run_id: int


def notice_of(
    stored: StoredRun, position: int, language: Language, *, analyst: bool = False, strategy: Strategy | None = None
) -> Notice:
    """The notice of the decision at ``position`` of ``stored``, in ``language`` (zh or en)."""
    row = {str(k): v for k, v in stored.decisions.iloc[position].to_dict().items()}
    values = stored.features.loc[str(row["account_id"])]
    features = {str(k): float(v) for k, v in values.items() if isinstance(v, int | float) and not pd.isna(v)}
    changed: Any = stored.context["last_limit_change_on"].get(str(row["account_id"]))
    changed_on: date | None = None if changed is None or pd.isna(changed) else pd.Timestamp(changed).date()
    policy = (strategy or stored_strategy(stored)).policies[str(row["arm"])]
    text = render_notice(row, features, policy, language, last_limit_change_on=changed_on)
    lines = analyst_reasons(row, features, policy, last_limit_change_on=changed_on) if analyst else []
    return Notice(row, text, lines, stored.run_id)


def sample_positions(stored: StoredRun) -> list[tuple[str, int | None]]:
    """Three telling decisions of a run: one raised, one held despite repaying on time, one frozen.

    Each is (title, position in the run), the position None when the run has no such account.
    The most telling of each: a raise cut short by a cap, a line held although a bill was due
    and paid on time in each of six months, a freeze with a way back up.
    """
    decided = stored.decisions
    by_row = stored.features.reindex(decided["account_id"])
    held = (decided["action"] == "hold").to_numpy() & repaid_on_time(by_row)
    six_months = months_due(by_row) >= 6
    has_reasons = (decided["reasons"].map(len) > 0).to_numpy()
    has_way_up = (decided["recourse"].map(len) > 0).to_numpy()
    raised = (decided["action"] == "increase").to_numpy()
    frozen = (decided["action"] == "freeze").to_numpy()
    picks = [
        ("raised", _first_of(raised & has_reasons, raised)),
        (
            "held despite repaying on time",
            _first_of(held & six_months & has_way_up, _first_of(held & has_way_up, held)),
        ),
        ("frozen", _first_of(frozen & has_way_up, frozen)),
    ]
    return [(title, int(np.flatnonzero(where)[0]) if where.any() else None) for title, where in picks]


def _first_of(preferred: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """``preferred`` when any account has it, else ``fallback``."""
    return preferred if preferred.any() else fallback
