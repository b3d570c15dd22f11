"""Events in the panel and customer data that call for a decision outside the review cycle."""

from __future__ import annotations

from datetime import date

import pandas as pd

from linewise.features.families.income import VERIFIED_SOURCES
from linewise.features.window import as_of_month

__all__ = ["arrears_cleared", "income_verified_in"]


def arrears_cleared(panel: pd.DataFrame, as_of: date | pd.Timestamp) -> pd.Index:
    """Accounts in arrears at the month end before ``as_of``'s month and current at its end.

    That is, a repayment in the as-of month cleared what was overdue.
    """
    month = as_of_month(as_of)
    before = (month - pd.offsets.MonthEnd(1)).normalize()
    now = panel.loc[panel["month"] == month].set_index("account_id")["dpd"]
    then = panel.loc[panel["month"] == before].set_index("account_id")["dpd"].reindex(now.index)
    cleared = ((then.fillna(0) > 0) & (now == 0)).to_numpy(dtype=bool)
    return pd.Index([str(account) for account in now.index[cleared]], name="account_id", dtype="str")


def income_verified_in(customers: pd.DataFrame, as_of: date | pd.Timestamp) -> pd.Index:
    """Accounts whose income was verified (by a proof or a bank statement) in the as-of month.

    The as-of month is the one the features describe (see :func:`as_of_month`): a proof
    dated after its end is not in the features yet, so it does not call for a decision.
    """
    if "income_verified_on" not in customers.columns:
        return pd.Index([], name="account_id", dtype="str")
    month = as_of_month(as_of)
    verified_on = pd.to_datetime(customers["income_verified_on"])
    source = customers.get("income_source", pd.Series(None, index=customers.index, dtype="str"))
    fresh = source.isin(VERIFIED_SOURCES) & (verified_on > month - pd.offsets.MonthEnd(1)) & (verified_on <= month)
    return pd.Index(customers.loc[fresh.to_numpy(dtype=bool), "account_id"].astype("str"), name="account_id")
