"""Features for every account as of a date, from the panel and the customer table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd

from linewise.errors import InputError
from linewise.features._customers import CustomerColumns, customer_columns
from linewise.features.families import bureau, income, repayment, usage
from linewise.features.registry import FeatureSpec, Source
from linewise.features.window import PanelWindow, build_window

__all__ = [
    "REGISTRY",
    "compute_features",
    "feature_specs",
    "features_from_columns",
    "features_from_window",
    "in_account_and_month_order",
    "limit_changed_on",
]

REGISTRY: dict[str, FeatureSpec] = {
    spec.name: spec for spec in (*repayment.SPECS, *usage.SPECS, *income.SPECS, *bureau.SPECS)
}


def feature_specs(names: Sequence[str] | None = None) -> list[FeatureSpec]:
    """The specs of ``names`` (every registered feature when None), in that order."""
    if names is None:
        return list(REGISTRY.values())
    unknown = [name for name in names if name not in REGISTRY]
    if unknown:
        raise InputError.for_field(
            "feature_unknown",
            where="features",
            field="feature",
            rule=f"a registered feature ({', '.join(REGISTRY)})",
            value=unknown[0],
        )
    return [REGISTRY[name] for name in names]


def compute_features(
    panel: pd.DataFrame,
    customers: pd.DataFrame,
    as_of: date | pd.Timestamp,
    *,
    sources: Sequence[Source] | None = None,
) -> pd.DataFrame:
    """One row per account with a panel row in the as-of month, one float column per feature.

    ``panel`` and ``customers`` are validated tables (see :class:`linewise.data.Portfolio`).
    Only what was known at ``as_of`` is used. Missing values are NaN: a window with
    nothing in it, or a source without the customer's consent. ``sources`` limits the
    columns to those sources (all when None). The same call serves one account or
    millions.
    """
    return features_from_window(build_window(panel, as_of), customers, sources=sources)


def features_from_window(
    window: PanelWindow,
    customers: pd.DataFrame,
    *,
    sources: Sequence[Source] | None = None,
    aligned: bool = False,
) -> pd.DataFrame:
    """The features of every account of ``window``, as :func:`compute_features` gives them.

    ``customers`` holds a row for each of the window's accounts (``account_id`` a
    column, unique); ``aligned``: exactly those rows, in the window's order.
    """
    return features_from_columns(window, customer_columns(customers, window.account_ids, aligned=aligned), sources)


def features_from_columns(
    window: PanelWindow,
    customers: CustomerColumns,
    sources: Sequence[Source] | None = None,
    *,
    index: pd.Index | None = None,
) -> pd.DataFrame:
    """:func:`features_from_window` from the customers' columns, row for row with ``window``.

    Indexed by ``index`` when given (the window's account ids otherwise).
    """
    values: dict[str, np.ndarray] = {}
    values.update(repayment.compute(window))
    values.update(usage.compute(window, customers))
    values.update(income.compute(window, customers))
    values.update(bureau.compute(window, customers))
    names = [name for name, spec in REGISTRY.items() if sources is None or spec.source in sources]
    # One float block: building a frame column by column costs a millisecond.
    matrix = np.empty((len(window), len(names)))
    for position, name in enumerate(names):
        matrix[:, position] = values[name]
    rows = pd.Index(window.account_ids, name="account_id") if index is None else index
    frame = pd.DataFrame(matrix, columns=names, index=rows)
    frame.attrs["as_of"] = window.month
    return frame


def limit_changed_on(panel: pd.DataFrame, as_of: date | pd.Timestamp) -> pd.Series:
    """Per account with a panel row in the as-of month, the month end its limit last changed.

    NaT when the month-end limits up to ``as_of`` never changed within the panel.
    Accounts in order of their ids.
    """
    month = pd.Timestamp(as_of).to_period("M").to_timestamp("M").to_datetime64()
    months = pd.to_datetime(panel["month"]).to_numpy()
    known = months <= month
    every_code, ids = pd.factorize(panel["account_id"], sort=True)  # the column's own codes: fast on Arrow strings
    codes = every_code[known]
    months = months[known]
    limits = panel["credit_limit"].to_numpy(dtype="float64", na_value=np.nan)[known]
    if not in_account_and_month_order(codes, months):  # a portfolio's panel is; a ledger's need not be
        order = np.lexsort((months, codes))
        codes, months, limits = codes[order], months[order], limits[order]
    # A change is a row whose limit differs from the same account's row before it.
    changed = np.zeros(len(codes), dtype=bool)
    changed[1:] = (codes[1:] == codes[:-1]) & ~np.isnan(limits[:-1]) & (limits[1:] != limits[:-1])
    last = np.full(len(ids), np.datetime64("NaT"), dtype=months.dtype)
    stamps = last.view("int64")
    np.maximum.at(stamps, codes[changed], months[changed].view("int64"))
    now = codes[months == month]
    accounts = pd.Index(np.asarray(ids, dtype=object)[now].astype("str"), name="account_id", dtype="str")
    return pd.Series(last[now], index=accounts, name="last_limit_change_on")


def in_account_and_month_order(codes: np.ndarray, months: np.ndarray) -> bool:
    """Whether rows run by account code, and by month within an account."""
    if len(codes) < 2:
        return True
    same = codes[1:] == codes[:-1]
    return bool(np.all(codes[1:] >= codes[:-1]) and np.all(months[1:][same] > months[:-1][same]))
