"""The decision log as the application layer reaches it: a protocol and an in-memory log.

The SQL implementation is :class:`linewise.ledger.store.decision_log.SqlDecisionLog`;
:class:`MemoryDecisionLog` keeps runs in the process, for tests and for simulations
that decide many strategies on one portfolio without storing them.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol

import pandas as pd

from linewise.errors import InputError
from linewise.ledger.store.decision_log import StoredRun, check_run

__all__ = ["DecisionLog", "MemoryDecisionLog"]


class DecisionLog(Protocol):
    """Where runs of decisions are stored with what they were made from."""

    def save_run(
        self,
        decided: pd.DataFrame,
        features: pd.DataFrame,
        *,
        strategy_text: str,
        with_recourse: bool,
        context: pd.DataFrame | None = None,
        history: list[dict[str, Any]] | None = None,
    ) -> int:
        """Store one run; its id. Nothing is stored when the run is not one run."""
        ...

    def load_run(self, run_id: int | None = None) -> StoredRun:
        """Run ``run_id`` (the newest when None)."""
        ...

    def latest_decision(self, account_id: str) -> StoredRun:
        """The newest decision of ``account_id``, as a run of one."""
        ...

    def list_runs(self) -> list[dict[str, Any]]:
        """Every run, newest first."""
        ...

    def last_decided_on(self, trigger: str) -> pd.Series:
        """Per account, the as-of date of its newest decision by ``trigger``."""
        ...

    def decisions_since(self, trigger: str, after: date, up_to: date, accounts: list[str]) -> pd.Series:
        """Per one of ``accounts``, its decisions by ``trigger`` with an as-of in (after, up_to]."""
        ...


class MemoryDecisionLog:
    """A :class:`DecisionLog` held in memory, with the SQL log's rules (one run, one text per ref)."""

    def __init__(self) -> None:
        self._runs: list[StoredRun] = []
        self._texts: dict[str, str] = {}

    def save_run(
        self,
        decided: pd.DataFrame,
        features: pd.DataFrame,
        *,
        strategy_text: str,
        with_recourse: bool,
        context: pd.DataFrame | None = None,
        history: list[dict[str, Any]] | None = None,
    ) -> int:
        """See :meth:`DecisionLog.save_run`."""
        check_run(decided, features, history)
        first = decided.iloc[0]
        ref = str(first["strategy"])
        if self._texts.setdefault(ref, strategy_text) != strategy_text:
            raise InputError.for_field(
                "strategy_ref_reused",
                where="decision log",
                field="strategy",
                rule="one text per id@version (raise the version when the file changes)",
                value=ref,
            )
        accounts = pd.Index(decided["account_id"].astype("str"), name="account_id")
        stored_context = pd.DataFrame(index=accounts)
        stored_context["last_limit_change_on"] = pd.NaT
        stored_context["requests_in_window"] = float("nan")
        if context is not None:
            given = context.set_axis(context.index.astype("str")).reindex(accounts)
            for column in given.columns:
                stored_context[column] = given[column]
        stored_context["last_limit_change_on"] = pd.to_datetime(stored_context["last_limit_change_on"])
        stored_context["requests_in_window"] = stored_context["requests_in_window"].astype("float64")
        run = StoredRun(
            run_id=len(self._runs) + 1,
            as_of=first["as_of"],
            trigger=str(first["trigger"]),
            strategy_ref=ref,
            strategy_text=strategy_text,
            model_ref=str(first["model"]),
            with_recourse=with_recourse,
            decisions=decided.reset_index(drop=True).copy(),
            features=features.set_axis(features.index.astype("str")).reindex(accounts),
            context=stored_context,
            history=None if history is None else list(history),
        )
        self._runs.append(run)
        return run.run_id

    def load_run(self, run_id: int | None = None) -> StoredRun:
        """See :meth:`DecisionLog.load_run`."""
        if not self._runs or (run_id is not None and not 1 <= run_id <= len(self._runs)):
            raise InputError.for_field(
                "run_not_found", where="decision log", field="run", rule="a stored run", value=run_id
            )
        return self._runs[-1 if run_id is None else run_id - 1]

    def latest_decision(self, account_id: str) -> StoredRun:
        """See :meth:`DecisionLog.latest_decision`."""
        found = [
            (run.as_of, run.run_id, position)
            for run in self._runs
            for position in (run.decisions["account_id"] == account_id).to_numpy().nonzero()[0]
        ]
        if not found:
            raise InputError.for_field(
                "account_not_found",
                where="decision log",
                field="account_id",
                rule="an account with a stored decision",
                value=account_id,
            )
        _, run_id, position = max(found)
        return self._runs[run_id - 1].one(int(position))

    def list_runs(self) -> list[dict[str, Any]]:
        """See :meth:`DecisionLog.list_runs`."""
        return [
            {
                "id": run.run_id,
                "as_of": run.as_of,
                "trigger": run.trigger,
                "strategy_ref": run.strategy_ref,
                "model_ref": run.model_ref,
                "with_recourse": run.with_recourse,
                "accounts": len(run.decisions),
            }
            for run in reversed(self._runs)
        ]

    def last_decided_on(self, trigger: str) -> pd.Series:
        """See :meth:`DecisionLog.last_decided_on`."""
        latest: dict[str, pd.Timestamp] = {}
        for run in self._runs:
            if run.trigger == trigger:
                for account in run.decisions["account_id"].astype("str"):
                    latest[account] = max(latest.get(account, pd.Timestamp(run.as_of)), pd.Timestamp(run.as_of))
        return pd.Series(latest, dtype="datetime64[ns]", name="last_decided_on").rename_axis("account_id")

    def decisions_since(self, trigger: str, after: date, up_to: date, accounts: list[str]) -> pd.Series:
        """See :meth:`DecisionLog.decisions_since`."""
        counts: dict[str, int] = {}
        wanted = set(accounts)
        for run in self._runs:
            if run.trigger == trigger and after < run.as_of <= up_to:
                for account in run.decisions["account_id"].astype("str"):
                    if account in wanted:
                        counts[account] = counts.get(account, 0) + 1
        return pd.Series(counts, dtype="int64", name="decisions").rename_axis("account_id")
