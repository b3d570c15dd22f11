"""The customer table's columns, read once per computation as arrays aligned to a window.

Reading a column of a small frame costs tens of microseconds; the families read a
dozen, and recourse computes features for a handful of rows many times a decision.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["CustomerColumns", "aligned_rows", "customer_columns", "month_numbers"]

_DATES = ("opened_on", "income_verified_on")
_TEXTS = ("income_source",)
# The numeric columns the families read.
_NUMBERS = (
    "income_monthly",
    "external_debt",
    "bureau_enquiries_6m",
    "external_dpd_max_12m",
    "bureau_score",
    "assets",
)


@dataclass(frozen=True)
class CustomerColumns:
    """Per account of a window, in its order: the customer table's columns as arrays.

    ``numbers`` holds the numeric columns present as floats (NaN where missing);
    ``consents`` the ``consent_*`` flags (false where missing); ``dates`` the date
    columns as ``datetime64[ns]`` (NaT where missing; ``income_verified_on`` all NaT when
    absent); ``texts`` the text columns as objects. A column the table lacks is left
    out of ``numbers``, ``consents`` and ``texts``.
    """

    length: int
    numbers: dict[str, np.ndarray]
    consents: dict[str, np.ndarray]
    dates: dict[str, np.ndarray]
    texts: dict[str, np.ndarray]

    def rows(self, positions: np.ndarray) -> CustomerColumns:
        """The accounts at ``positions`` (repeats allowed)."""

        def taken(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
            return {name: values[positions] for name, values in arrays.items()}

        return CustomerColumns(
            len(positions), taken(self.numbers), taken(self.consents), taken(self.dates), taken(self.texts)
        )

    def consented(self, column: str, consent: str) -> np.ndarray:
        """``column`` as floats, NaN wherever the consent flag is not true or the value is absent."""
        if column not in self.numbers or consent not in self.consents:
            return np.full(self.length, np.nan)
        return np.where(self.consents[consent], self.numbers[column], np.nan)


def customer_columns(customers: pd.DataFrame, account_ids: np.ndarray, *, aligned: bool = False) -> CustomerColumns:
    """``customers``' rows for ``account_ids`` (``account_id`` a column, unique), in that order.

    ``aligned``: the rows already are those accounts in that order (a
    :class:`~linewise.features.projection.History`'s), so they are not looked up.
    """
    rows = customers if aligned else aligned_rows(customers, account_ids)
    numbers: dict[str, np.ndarray] = {}
    consents: dict[str, np.ndarray] = {}
    texts: dict[str, np.ndarray] = {}
    for column in rows.columns:
        if column in _DATES or column == "account_id":
            continue
        if column.startswith("consent_"):
            consents[column] = rows[column].to_numpy(dtype="bool", na_value=False)
        elif column in _TEXTS:
            texts[column] = rows[column].to_numpy(dtype=object)
        elif column in _NUMBERS:
            numbers[column] = rows[column].to_numpy(dtype="float64", na_value=np.nan)
    verified_on = (
        pd.to_datetime(rows["income_verified_on"]).to_numpy(dtype="datetime64[ns]")
        if "income_verified_on" in rows.columns
        else np.full(len(rows), np.datetime64("NaT"), dtype="datetime64[ns]")
    )
    return CustomerColumns(
        length=len(rows),
        numbers=numbers,
        consents=consents,
        dates={"opened_on": rows["opened_on"].to_numpy(dtype="datetime64[ns]"), "income_verified_on": verified_on},
        texts=texts,
    )


def aligned_rows(customers: pd.DataFrame, account_ids: np.ndarray) -> pd.DataFrame:
    """``customers``' rows for ``account_ids`` in that order (all missing for an account it lacks).

    ``customers`` has ``account_id`` as a column; when its rows are already those
    accounts in that order (one account's book), they are taken as they are, that
    column included.
    """
    held = customers["account_id"].to_numpy(dtype=object)
    if len(held) == len(account_ids) and bool((held == np.asarray(account_ids, dtype=object)).all()):
        return customers
    return customers.set_index("account_id").reindex(account_ids)


def month_numbers(dates: np.ndarray) -> np.ndarray:
    """``year * 12 + month`` of each date as floats, NaN where it is NaT."""
    months = dates.astype("datetime64[M]")
    numbers = months.astype("int64").astype("float64") + (1970 * 12 + 1)
    return np.where(np.isnat(months), np.nan, numbers)
