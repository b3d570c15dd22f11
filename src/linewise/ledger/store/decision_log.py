"""The decision log: every decision stored with the features and context it was made from.

A run is one call of the decision core over a set of accounts (one as-of date, one
trigger, one strategy, one model). The strategy's text is stored once per
``id@version``; a second, different text under the same reference is refused, so a
stored reference always means one strategy. Feature values are stored as JSON
numbers (shortest round-trip form), so a replay sees them bit for bit. So is, per
decision, the history its recourse was lived on (``history`` in the context: JSON
records made by :func:`linewise.features.projection.history_records`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, func, insert, select

from linewise.decision_schema import DECISION_FIELDS, DecisionField
from linewise.errors import InputError
from linewise.ledger.store.repository import insert_rows
from linewise.ledger.store.tables import decision_runs, decisions, strategies

__all__ = [
    "SqlDecisionLog",
    "StoredRun",
    "account_decisions",
    "check_run",
    "decisions_since",
    "last_decided_on",
    "latest_decision",
    "list_runs",
    "load_run",
    "save_run",
]

_ONE_PER_RUN = ("as_of", "trigger", "strategy", "model")
_CONTEXT = ("last_limit_change_on", "requests_in_window")


@dataclass(frozen=True)
class StoredRun:
    """A run read back: its decisions (the decision contract's columns), features and context.

    ``features`` and ``context`` are indexed by account id; ``context`` has
    ``last_limit_change_on`` (NaT when never) and ``requests_in_window`` (NaN when
    not counted). ``history`` holds each decision's history record, in the
    decisions' order, or is None when the run stored none.
    """

    run_id: int
    as_of: date
    trigger: str
    strategy_ref: str
    strategy_text: str
    model_ref: str
    with_recourse: bool
    decisions: pd.DataFrame
    features: pd.DataFrame
    context: pd.DataFrame
    history: list[dict[str, Any]] | None = None

    def one(self, position: int) -> StoredRun:
        """The decision at ``position`` (in the decisions' order) as a run of one."""
        account = str(self.decisions["account_id"].iloc[position])
        return replace(
            self,
            decisions=self.decisions.iloc[[position]].reset_index(drop=True),
            features=self.features.loc[[account]],
            context=self.context.loc[[account]],
            history=None if self.history is None else [self.history[position]],
        )


class SqlDecisionLog:
    """The decision log in the ledger's database (SQLite or PostgreSQL): the functions below, bound."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # The strategies this log has seen committed (ref -> sha256): a server logging
        # decision after decision under one strategy need not read it back each time.
        self._stored_strategies: dict[str, str] = {}

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
        """See :func:`save_run`."""
        return save_run(
            self.engine,
            decided,
            features,
            strategy_text=strategy_text,
            with_recourse=with_recourse,
            context=context,
            history=history,
            stored_strategies=self._stored_strategies,
        )

    def load_run(self, run_id: int | None = None) -> StoredRun:
        """See :func:`load_run`."""
        return load_run(self.engine, run_id)

    def latest_decision(self, account_id: str) -> StoredRun:
        """See :func:`latest_decision`."""
        return latest_decision(self.engine, account_id)

    def list_runs(self) -> list[dict[str, Any]]:
        """See :func:`list_runs`."""
        return list_runs(self.engine)

    def last_decided_on(self, trigger: str) -> pd.Series:
        """See :func:`last_decided_on`."""
        return last_decided_on(self.engine, trigger)

    def decisions_since(self, trigger: str, after: date, up_to: date, accounts: list[str]) -> pd.Series:
        """See :func:`decisions_since`."""
        return decisions_since(self.engine, trigger, after, up_to, accounts)


def save_run(
    engine: Engine,
    decided: pd.DataFrame,
    features: pd.DataFrame,
    *,
    strategy_text: str,
    with_recourse: bool,
    context: pd.DataFrame | None = None,
    history: list[dict[str, Any]] | None = None,
    stored_strategies: dict[str, str] | None = None,
) -> int:
    """Store ``decided`` (one run) with each account's ``features`` and ``context``; the run's id.

    ``with_recourse`` says whether recourse was worked out (a replay must do the same);
    ``history`` is the record recourse was lived on, one per row of ``decided``.
    ``stored_strategies`` (ref -> sha256 of the text) names strategies known to be
    stored already in this database; the run's strategy is added once it is.
    Nothing is written when a row's account has no features or appears twice, when
    the rows mix as-of dates, triggers, strategies or models, or when the strategy
    reference is already stored with another text.
    """
    check_run(decided, features, history)
    accounts = decided["account_id"].astype("str")
    first = decided.iloc[0]
    ref = str(first["strategy"])
    now = datetime.now(UTC)
    feature_rows = features.set_axis(features.index.astype("str")).reindex(accounts)
    context_rows = (
        pd.DataFrame(index=accounts)
        if context is None
        else context.set_axis(context.index.astype("str")).reindex(accounts)
    )
    digest = hashlib.sha256(strategy_text.encode()).hexdigest()
    known = stored_strategies if stored_strategies is not None else {}
    with engine.begin() as conn:
        if known.get(ref) != digest:
            _store_strategy(conn, ref, strategy_text, digest, now)
        run_id = int(
            conn.execute(
                insert(decision_runs)
                .values(
                    as_of=first["as_of"],
                    trigger=str(first["trigger"]),
                    strategy_ref=ref,
                    model_ref=str(first["model"]),
                    with_recourse=with_recourse,
                    accounts=len(decided),
                    stored_at=now,
                )
                .returning(decision_runs.c.id)
            ).scalar_one()
        )
        names = ["run_id", *(field.column for field in DECISION_FIELDS), "features", "context"]
        insert_rows(conn, decisions, names, _decision_rows(run_id, decided, feature_rows, context_rows, history))
    known[ref] = digest
    return run_id


# A whole book's rows are made a chunk at a time as they are sent: the database stores
# one chunk while the next is formatted, and on two cores the two overlap.
_CHUNK = 5_000


def _decision_rows(
    run_id: int,
    decided: pd.DataFrame,
    features: pd.DataFrame,
    context: pd.DataFrame,
    history: list[dict[str, Any]] | None,
) -> Iterator[tuple[Any, ...]]:
    """The log's rows of ``decided`` (``features`` and ``context`` aligned to it), in order."""
    for start in range(0, len(decided), _CHUNK):
        rows = slice(start, start + _CHUNK)

        def part(frame: pd.DataFrame, rows: slice = rows) -> pd.DataFrame:
            return frame if len(decided) <= _CHUNK else frame.iloc[rows]

        columns = _stored_columns(part(decided))
        features_json = _json_rows(part(features))
        context_json = _context_rows(part(context), None if history is None else history[rows])
        yield from zip(itertools.repeat(run_id), *columns.values(), features_json, context_json)


def check_run(decided: pd.DataFrame, features: pd.DataFrame, history: list[dict[str, Any]] | None) -> None:
    """Raise :class:`InputError` unless ``decided`` is one run a log may store (see :func:`save_run`)."""
    if decided.empty:
        raise InputError.for_field(
            "decisions_empty", where="decision log", field="decisions", rule="at least one decision in a run", value=0
        )
    if len(decided) == 1:
        _check_features(decided, features)
        _check_history(decided, history)
        return  # one decision: one value per column, one account
    for column in _ONE_PER_RUN:
        first = decided[column].iloc[0]
        if (decided[column] == first).all():
            continue  # one value (the check below turned a whole book's dates into text to see it)
        values = decided[column].astype("str").unique()
        if len(values) > 1:
            raise InputError.for_field(
                "run_mixed", where="decision log", field=column, rule="one value per run", value=sorted(values)[:3]
            )
    accounts = decided["account_id"].astype("str")
    twice = accounts[accounts.duplicated()]
    if len(twice):
        raise InputError.for_field(
            "account_twice",
            where="decision log",
            field="account_id",
            rule="one decision per account in a run",
            value=twice.iloc[0],
        )
    _check_features(decided, features)
    _check_history(decided, history)


def _check_features(decided: pd.DataFrame, features: pd.DataFrame) -> None:
    accounts = decided["account_id"].astype("str")
    # A set, not Series.isin: pandas' isin on text took half a second for a whole book.
    known = set(features.index.astype("str").tolist())
    missing = [account for account in accounts.tolist() if account not in known]
    if missing:
        raise InputError.for_field(
            "feature_missing",
            where="decision log",
            field="account_id",
            rule="features stored with every decision",
            value=missing[0],
        )


def _check_history(decided: pd.DataFrame, history: list[dict[str, Any]] | None) -> None:
    if history is not None and len(history) != len(decided):
        raise InputError.for_field(
            "history_missing",
            where="decision log",
            field="history",
            rule=f"one record per decision ({len(decided)})",
            value=len(history),
        )


def _store_strategy(conn: Connection, ref: str, text: str, digest: str, now: datetime) -> None:
    stored = conn.execute(select(strategies.c.sha256).where(strategies.c.ref == ref)).scalar_one_or_none()
    if stored is None:
        conn.execute(insert(strategies).values(ref=ref, sha256=digest, text=text, stored_at=now))
    elif stored != digest:
        raise InputError.for_field(
            "strategy_ref_reused",
            where="decision log",
            field="strategy",
            rule="one text per id@version (raise the version when the file changes)",
            value=ref,
        )


def _number(value: Any) -> float | None:
    number = float(value)
    return None if math.isnan(number) else number


# One encoder for every row: json.dumps(..., allow_nan=False) builds a new one a call.
_ENCODE = json.JSONEncoder(allow_nan=False).encode


def _json_rows(frame: pd.DataFrame) -> list[str]:
    """Each row as a JSON object: numbers (null when missing), then texts, in the frame's order.

    The text ``json.dumps(row_dict, allow_nan=False)`` gives, built a column at a time:
    JSON writes a float as ``repr`` does, so every value is formatted in one ``map``
    and each row is one ``%`` of a template holding the keys: for a whole book, much
    less than a dict and an encoding per row, and for one row no loop per column.
    """
    is_numeric = {dtype: pd.api.types.is_numeric_dtype(dtype) for dtype in set(frame.dtypes.tolist())}
    numeric = [name for name, dtype in frame.dtypes.items() if is_numeric[dtype]]
    texts = [c for c in frame.columns if c not in numeric]
    # Selecting every column by name copies the frame: a whole row costs more than formatting it.
    chosen = frame if not texts else frame[numeric]
    values = chosen.to_numpy(dtype="float64", na_value=np.nan)
    rows: list[list[str]] = _formatted(values).tolist()
    for name in texts:
        for row, text in zip(rows, frame[name].tolist(), strict=True):
            row.append("null" if text is None or pd.isna(text) else _ENCODE(str(text)))
    names = numeric + texts
    if not names:
        return ["{}"] * len(frame)
    template = "{" + ", ".join(_ENCODE(str(name)).replace("%", "%%") + ": %s" for name in names) + "}"
    return [template % tuple(row) for row in rows]


# From this many rows on, each column's values are formatted once per distinct value.
_DISTINCT_FROM = 256


def _formatted(values: np.ndarray) -> np.ndarray:
    """``values`` (float64, rows x columns) as JSON numbers: ``repr``, or ``null`` for NaN.

    ``repr`` of a float is most of the cost of a book's features, and most feature
    columns hold few distinct values (counts, flags, months), so a large frame's
    columns are formatted a distinct value at a time.
    """
    if len(values) < _DISTINCT_FROM:
        cells = np.array(list(map(repr, values.ravel().tolist())), dtype=object).reshape(values.shape)
        cells[np.isnan(values)] = "null"
        return cells
    cells = np.empty(values.shape, dtype=object)
    for k in range(values.shape[1]):
        distinct, inverse = np.unique(values[:, k], return_inverse=True)
        texts = np.array(list(map(repr, distinct.tolist())), dtype=object)
        texts[np.isnan(distinct)] = "null"
        cells[:, k] = texts[inverse.ravel()]
        # unique() takes -0.0 for 0.0, which repr tells apart.
        negative_zero = (values[:, k] == 0) & np.signbit(values[:, k])
        cells[negative_zero, k] = "-0.0"
        cells[(values[:, k] == 0) & ~negative_zero, k] = "0.0"
    return cells


def _context_rows(frame: pd.DataFrame, history: list[dict[str, Any]] | None) -> list[str]:
    n = len(frame)
    changed: list[str | None] = [None] * n
    if "last_limit_change_on" in frame:
        changes = frame["last_limit_change_on"]
        as_dates = changes if pd.api.types.is_datetime64_dtype(changes.dtype) else pd.to_datetime(changes)
        days = as_dates.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
        known = ~np.isnat(days)
        texts = np.datetime_as_string(days[known], unit="D").tolist()
        for i, text in zip(np.flatnonzero(known).tolist(), texts, strict=True):
            changed[i] = text
    requests: list[float | None] = [None] * n
    if "requests_in_window" in frame:
        counted = frame["requests_in_window"].to_numpy(dtype="float64", na_value=np.nan)
        requests = [None if math.isnan(r) else r for r in counted.tolist()]
    extra = [column for column in frame.columns if column not in _CONTEXT]
    extra_columns = [
        [
            None if gone else _plain(value)
            for value, gone in zip(frame[column].tolist(), frame[column].isna().tolist(), strict=True)
        ]
        for column in extra
    ]
    out = []
    for i in range(n):
        item: dict[str, Any] = {"last_limit_change_on": changed[i], "requests_in_window": requests[i]}
        for column, values in zip(extra, extra_columns, strict=True):
            item[column] = values[i]
        if history is not None:
            item["history"] = history[i]
        out.append(_ENCODE(item))
    return out


def _plain(value: Any) -> Any:
    """A context value as JSON holds it (numpy scalars as Python ones)."""
    return value.item() if hasattr(value, "item") else value


def _stored_columns(decided: pd.DataFrame) -> dict[str, list[Any]]:
    """Each decision column by its name in the log, as the log holds it (one conversion of the frame)."""
    cells = decided[[f.name for f in DECISION_FIELDS]].to_numpy(dtype=object)
    missing = pd.isna(cells)
    return {f.column: _stored_column(f, cells[:, k].tolist(), missing[:, k]) for k, f in enumerate(DECISION_FIELDS)}


def _stored_column(field: DecisionField, values: list[Any], missing: np.ndarray) -> list[Any]:
    """A decision column as the log's column holds it; raises when a required value is missing."""
    if field.kind == "codes":
        return [json.dumps([str(code) for code in codes]) for codes in values]
    if missing.any() and not field.nullable:
        raise InputError.for_field(
            "decision_incomplete", where="decision log", field=field.name, rule="present in every decision", value=None
        )
    if field.kind == "minor":
        cast: Any = int
    elif field.kind == "number":
        cast = float
    elif field.kind == "date":

        def cast(value: Any) -> Any:
            return value if type(value) is date else pd.Timestamp(value).date()
    else:
        cast = str
    return [None if gone else cast(value) for value, gone in zip(values, missing.tolist(), strict=True)]


# --- reading ---------------------------------------------------------------------------------


def list_runs(engine: Engine) -> list[dict[str, Any]]:
    """Every run, newest first: id, as-of, trigger, strategy, model, accounts, when stored."""
    with engine.connect() as conn:
        rows = conn.execute(select(decision_runs).order_by(decision_runs.c.id.desc())).mappings().all()
    return [dict(row) for row in rows]


def load_run(engine: Engine, run_id: int | None = None) -> StoredRun:
    """Run ``run_id`` (the newest when None) with every decision, feature and context."""
    with engine.connect() as conn:
        if run_id is None:
            run_id = conn.execute(select(func.max(decision_runs.c.id))).scalar_one_or_none()
            if run_id is None:
                raise InputError.for_field(
                    "run_not_found",
                    where="decision log",
                    field="run",
                    rule="a stored run (decide with `linewise review` first)",
                    value=None,
                )
        return _read(conn, int(run_id), select(decisions).where(decisions.c.run_id == run_id).order_by(decisions.c.id))


def latest_decision(engine: Engine, account_id: str) -> StoredRun:
    """The newest stored decision of ``account_id``, as a run of one."""
    with engine.connect() as conn:
        found = conn.execute(
            select(decisions.c.id, decisions.c.run_id)
            .where(decisions.c.account_id == account_id)
            .order_by(decisions.c.as_of.desc(), decisions.c.id.desc())
            .limit(1)
        ).first()
        if found is None:
            raise InputError.for_field(
                "account_not_found",
                where="decision log",
                field="account_id",
                rule="an account with a stored decision",
                value=account_id,
            )
        return _read(conn, int(found.run_id), select(decisions).where(decisions.c.id == found.id))


def account_decisions(engine: Engine, account_id: str, *, limit: int, offset: int = 0) -> tuple[list[StoredRun], int]:
    """A page of ``account_id``'s stored decisions, newest first, each as a run of one; and how many it has in all."""
    newest_first = (decisions.c.as_of.desc(), decisions.c.id.desc())
    with engine.connect() as conn:
        total = conn.execute(
            select(func.count()).select_from(decisions).where(decisions.c.account_id == account_id)
        ).scalar_one()
        found = conn.execute(
            select(decisions.c.id, decisions.c.run_id)
            .where(decisions.c.account_id == account_id)
            .order_by(*newest_first)
            .limit(limit)
            .offset(offset)
        ).all()
        page = [_read(conn, int(row.run_id), select(decisions).where(decisions.c.id == row.id)) for row in found]
    return page, int(total)


def _read(conn: Connection, run_id: int, query: Any) -> StoredRun:
    run = conn.execute(select(decision_runs).where(decision_runs.c.id == run_id)).mappings().first()
    if run is None:
        raise InputError.for_field(
            "run_not_found", where="decision log", field="run", rule="a stored run", value=run_id
        )
    text = conn.execute(select(strategies.c.text).where(strategies.c.ref == run["strategy_ref"])).scalar_one()
    rows = conn.execute(query).mappings().all()
    index = pd.Index([row["account_id"] for row in rows], name="account_id")
    frame = pd.DataFrame({f.name: _read_column(f, [row[f.column] for row in rows]) for f in DECISION_FIELDS})
    features = pd.DataFrame.from_records([json.loads(row["features"]) for row in rows], index=index)
    for column in features.columns:
        try:  # numbers (None where missing) back to float64; text columns stay text
            features[column] = pd.to_numeric(features[column], errors="raise").astype("float64")
        except (ValueError, TypeError):
            continue
    stored_context = [json.loads(row["context"]) for row in rows]
    history = (
        [item["history"] for item in stored_context]
        if stored_context and all("history" in item for item in stored_context)
        else None
    )
    keys = list(_CONTEXT) + sorted({key for item in stored_context for key in item} - {*_CONTEXT, "history"})
    context = pd.DataFrame.from_records(stored_context, index=index, columns=keys)
    context["last_limit_change_on"] = pd.to_datetime(context["last_limit_change_on"])
    context["requests_in_window"] = context["requests_in_window"].astype("float64")
    return StoredRun(
        run_id=run_id,
        as_of=run["as_of"],
        trigger=run["trigger"],
        strategy_ref=run["strategy_ref"],
        strategy_text=text,
        model_ref=run["model_ref"],
        with_recourse=bool(run["with_recourse"]),
        decisions=frame,
        features=features,
        context=context,
        history=history,
    )


def _read_column(field: DecisionField, values: list[Any]) -> Any:
    """A decision column as ``decide`` builds it, from the log's values."""
    if field.kind == "codes":
        return [json.loads(value) for value in values]
    if field.kind == "number":
        return np.asarray(values, dtype="float64")
    if field.kind == "minor":
        return pd.array(values, dtype="Int64") if field.nullable else np.asarray(values, dtype="int64")
    if field.kind == "date":
        return pd.Series(values, dtype=object)
    return values


def last_decided_on(engine: Engine, trigger: str) -> pd.Series:
    """Per account with a logged decision by ``trigger``, the as-of date of the newest one."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(decisions.c.account_id, func.max(decisions.c.as_of))
            .where(decisions.c.trigger == trigger)
            .group_by(decisions.c.account_id)
        ).all()
    return pd.Series(
        {account: pd.Timestamp(on) for account, on in rows}, dtype="datetime64[ns]", name="last_decided_on"
    ).rename_axis("account_id")


def decisions_since(engine: Engine, trigger: str, after: date, up_to: date, accounts: list[str]) -> pd.Series:
    """Per one of ``accounts``, how many decisions by ``trigger`` are logged with an as-of in (after, up_to]."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(decisions.c.account_id, func.count())
            .where(
                decisions.c.account_id.in_(accounts),
                decisions.c.trigger == trigger,
                decisions.c.as_of > after,
                decisions.c.as_of <= up_to,
            )
            .group_by(decisions.c.account_id)
        ).all()
    return pd.Series({account: int(n) for account, n in rows}, dtype="int64", name="decisions").rename_axis(
        "account_id"
    )
