"""The bundled real portfolio: UCI "default of credit card clients" (Taiwan, 2005).

30,000 credit-card accounts observed at the six month ends April to September 2005,
mapped to linewise's tables (amounts are New Taiwan dollars, so minor units are
NT$ x 100):

- ``credit_limit`` = X1; ``balance`` = that month's bill (X12..X17; a negative bill
  is a credit in the customer's favour); ``amount_paid`` = that month's payment
  (X18..X23).
- ``amount_due`` = the previous month's bill, which the month's payment settles (none
  for April, the first month); ``drawn_amount`` = new spending, estimated as the
  bill's change plus the payment, floored at 0 (none for April).
- Repayment status X6..X11: ``-2`` (no consumption) → dpd 0, ``on_time`` missing;
  ``-1`` (paid in full) and ``0`` (minimum paid) → dpd 0, on time; ``k ≥ 1`` months
  of delay → dpd 30·k, not on time.
- The outcome is Y, default in the month after September 2005.
- Sex, education, marriage and age go to the customer table as protected
  attributes, for monitoring only. There is no bureau, income or assets data, so
  those consents are false. The opening date is not in the data.

Source, licence (CC BY 4.0) and citation: ``bundled/ATTRIBUTION.md``.
"""

from __future__ import annotations

import importlib.resources
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from linewise.data.portfolio import Portfolio
from linewise.errors import Problem, SchemaMismatchError

__all__ = ["UCI_ATTRIBUTION", "UCI_MONTHS", "load_uci_raw", "portfolio_from_uci", "uci_portfolio"]

UCI_ATTRIBUTION = (
    "UCI Machine Learning Repository, dataset 350 'default of credit card clients' "
    "(DOI 10.24432/C55S3H), CC BY 4.0; Yeh & Lien (2009), Expert Systems with "
    "Applications 36(2), 2473-2480."
)
UCI_MONTHS = [
    date(2005, 4, 30),
    date(2005, 5, 31),
    date(2005, 6, 30),
    date(2005, 7, 31),
    date(2005, 8, 31),
    date(2005, 9, 30),
]
# The file lists months newest first (September .. April).
_STATUS = ["X11", "X10", "X9", "X8", "X7", "X6"]
_BILL = ["X17", "X16", "X15", "X14", "X13", "X12"]
_PAID = ["X23", "X22", "X21", "X20", "X19", "X18"]
_COLUMNS = ["ID", *[f"X{i}" for i in range(1, 24)], "Y"]
_MINOR_PER_MAJOR = 100

_SEX = {1: "male", 2: "female"}
_EDUCATION = {1: "graduate_school", 2: "university", 3: "high_school", 4: "other"}
_MARRIAGE = {1: "married", 2: "single", 3: "other"}


def load_uci_raw(path: Path | None = None) -> pd.DataFrame:
    """The UCI file as integers (the bundled copy when ``path`` is None)."""
    if path is None:
        resource = importlib.resources.files("linewise.data") / "bundled" / "uci_taiwan_default.csv.gz"
        with importlib.resources.as_file(resource) as bundled:
            raw = pd.read_csv(bundled)
        source = "bundled uci_taiwan_default.csv.gz"
    else:
        raw = pd.read_csv(path)
        source = str(path)
    missing = [column for column in _COLUMNS if column not in raw.columns]
    if missing:
        raise SchemaMismatchError(
            [Problem(source, None, column, "a column of the UCI file", "missing") for column in missing]
        )
    numeric = raw[_COLUMNS].apply(pd.to_numeric, errors="coerce")
    bad_rows, bad_cols = np.nonzero(numeric.isna().to_numpy())
    if len(bad_rows):
        raise SchemaMismatchError(
            [
                Problem(source, int(r) + 1, _COLUMNS[c], "a whole number", raw[_COLUMNS[c]].iloc[r])
                for r, c in zip(bad_rows, bad_cols, strict=True)
            ]
        )
    integers: pd.DataFrame = numeric.astype("int64")
    return integers


def portfolio_from_uci(raw: pd.DataFrame) -> Portfolio:
    """The UCI accounts as a linewise portfolio (see the module docstring for the mapping)."""
    n_accounts, n_months = len(raw), len(UCI_MONTHS)
    account_ids = raw["ID"].astype("str").to_numpy()
    status = raw[_STATUS].to_numpy()
    bill = raw[_BILL].to_numpy() * _MINOR_PER_MAJOR
    paid = raw[_PAID].to_numpy() * _MINOR_PER_MAJOR
    previous_bill = np.c_[np.zeros((n_accounts, 1), dtype="int64"), bill[:, :-1]]
    first_month = np.zeros((n_accounts, n_months), dtype=bool)
    first_month[:, 0] = True

    amount_due = pd.array(np.maximum(previous_bill, 0).ravel(), dtype="Int64")
    amount_due[first_month.ravel()] = pd.NA
    drawn = pd.array(np.maximum(bill - previous_bill + paid, 0).ravel(), dtype="Int64")
    drawn[first_month.ravel()] = pd.NA
    on_time = pd.array((status <= 0).ravel(), dtype="boolean")
    on_time[(status == -2).ravel()] = pd.NA

    panel = pd.DataFrame(
        {
            "account_id": np.repeat(account_ids, n_months),
            "month": np.tile(pd.to_datetime(UCI_MONTHS).to_numpy(), n_accounts),
            "credit_limit": np.repeat(raw["X1"].to_numpy() * _MINOR_PER_MAJOR, n_months),
            "balance": bill.ravel(),
            "amount_due": amount_due,
            "amount_paid": paid.ravel(),
            "drawn_amount": drawn,
            "dpd": np.where(status >= 1, 30 * status, 0).ravel(),
            "on_time": on_time,
        }
    )
    customers = pd.DataFrame(
        {
            "account_id": account_ids,
            "customer_id": account_ids,
            "opened_on": pd.Series(pd.NaT, index=range(n_accounts), dtype="datetime64[ns]"),
            "consent_income": False,
            "consent_bureau": False,
            "consent_assets": False,
            "sex": raw["X2"].map(_SEX).fillna("undocumented"),
            "education": raw["X3"].map(_EDUCATION).fillna("undocumented"),
            "marital_status": raw["X4"].map(_MARRIAGE).fillna("undocumented"),
            "age": raw["X5"],
        }
    )
    outcomes = pd.DataFrame(
        {
            "account_id": account_ids,
            "as_of": pd.Timestamp(UCI_MONTHS[-1]),
            "horizon_months": 1,
            "default": raw["Y"].astype(bool),
        }
    )
    return Portfolio.from_frames(
        panel, customers, outcomes, currency="TWD", source="uci_taiwan", attribution=UCI_ATTRIBUTION
    )


def uci_portfolio(path: Path | None = None) -> Portfolio:
    """The bundled UCI portfolio (or the UCI file at ``path``), validated."""
    return portfolio_from_uci(load_uci_raw(path))
