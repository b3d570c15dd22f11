"""What a simulation reads off the portfolio itself: the CCF and the share of balances that revolve.

The credit conversion factor (CCF) is the share of the credit still available some months before a default
that the line has drawn by the time it defaults. For each line that went bad, the
panel gives its limit and balance at a reference month (the earliest within
``lookback_months`` before the as-of month) and its balance at the as-of month, the
last seen before the default. The estimate is pooled, drawn over available summed
over the defaulters (lines with little credit left weigh little), clipped to [0, 1],
with a bootstrap interval over the defaulters.

The revolving share is the part of the balances that customers carry over from one
month to the next, and so pay interest on: the balance less what was paid against it
the next month, summed over the last ``lookback_months`` and over the lines, over the
balances summed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from linewise.features.compute import in_account_and_month_order

__all__ = ["MIN_DEFAULTERS", "Estimate", "carried_share_by_account", "estimate_ccf", "estimate_revolving_share"]

# Fewer defaulters with credit left than this, and the assumed CCF is used instead.
MIN_DEFAULTERS = 30
_BOOTSTRAP = 400


@dataclass(frozen=True)
class Estimate:
    """A rate, where it came from (``estimated``, ``assumed``, ``fallback``) and its evidence.

    ``count`` is how many lines it was estimated from.
    """

    value: float
    source: str
    count: int = 0
    low: float | None = None
    high: float | None = None

    def as_dict(self) -> dict[str, object]:
        """The estimate as summary.json holds it."""
        return {"value": round(self.value, 4), "source": self.source, "lines": self.count} | (
            {"low": round(self.low, 4), "high": round(self.high, 4)}
            if self.low is not None and self.high is not None
            else {}
        )


def estimate_ccf(
    panel: pd.DataFrame, outcomes: pd.DataFrame | None, as_of: date, *, lookback_months: int = 12, seed: int = 0
) -> Estimate | None:
    """The pooled CCF of the lines whose outcome opened at ``as_of`` and that defaulted.

    None when the outcomes are missing or too few such lines had credit available at
    their reference month (see :data:`MIN_DEFAULTERS`).
    """
    if outcomes is None or outcomes.empty:
        return None
    month = pd.Timestamp(as_of)
    bad = outcomes.loc[(pd.to_datetime(outcomes["as_of"]) == month) & outcomes["default"].astype(bool), "account_id"]
    rows = panel.loc[panel["account_id"].isin(bad), ["account_id", "month", "credit_limit", "balance"]]
    periods = rows["month"].dt.to_period("M")
    rows = rows.loc[((periods <= month.to_period("M")) & (periods > month.to_period("M") - lookback_months)).to_numpy()]
    ordered = rows.sort_values(["account_id", "month"])
    first = ordered.groupby("account_id", sort=False).first()
    last = ordered.groupby("account_id", sort=False).last()
    seen_at_as_of = ordered.groupby("account_id", sort=False)["month"].max() == month
    available = (first["credit_limit"] - first["balance"]).astype(np.float64)
    keep = (available > 0) & seen_at_as_of & (first["month"] < month)
    if int(keep.sum()) < MIN_DEFAULTERS:
        return None
    drawn = (last["balance"] - first["balance"]).astype(np.float64)[keep].to_numpy()
    room = available[keep].to_numpy()
    value = float(np.clip(drawn.sum() / room.sum(), 0.0, 1.0))
    rng = np.random.default_rng(seed)
    resampled = np.empty(_BOOTSTRAP)
    for draw in range(_BOOTSTRAP):  # one resample at a time: memory stays one defaulters' array
        picks = rng.integers(0, len(room), size=len(room))
        resampled[draw] = np.clip(drawn[picks].sum() / room[picks].sum(), 0.0, 1.0)
    low, high = np.quantile(resampled, [0.05, 0.95])
    return Estimate(value, "estimated", int(keep.sum()), float(low), float(high))


def estimate_revolving_share(panel: pd.DataFrame, as_of: date, *, lookback_months: int = 12) -> Estimate | None:
    """The share of month-end balances carried into the next month unpaid, up to ``as_of``.

    None when no line had a balance to carry in the months looked at.
    """
    found = _carried(panel, as_of, lookback_months)
    if found is None:
        return None
    _, carried, owed = found
    return Estimate(float(carried.sum() / owed.sum()), "estimated", int((owed > 0).sum()))


def carried_share_by_account(panel: pd.DataFrame, as_of: date, *, lookback_months: int = 12) -> pd.Series:
    """Per account, the share of its own month-end balances it carried over unpaid, up to ``as_of``.

    A line that pays little carries nearly all of it; one that pays in full, none.
    Accounts with no balance to carry in the months looked at are left out.
    """
    found = _carried(panel, as_of, lookback_months)
    if found is None:
        return pd.Series(dtype="float64", name="carried_share")
    ids, carried, owed = found
    seen = owed > 0
    return pd.Series(carried[seen] / owed[seen], index=pd.Index(ids[seen], name="account_id"), name="carried_share")


def _carried(
    panel: pd.DataFrame, as_of: date, lookback_months: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Per account (ids, carried, owed): what it owed at month ends and carried into the next month.

    A month whose payment is not known is left out, not taken as nothing paid.
    """
    month = pd.Timestamp(as_of).to_period("M")
    periods = panel["month"].dt.to_period("M")
    looked_at = ((periods <= month) & (periods > month - lookback_months)).to_numpy()
    every_code, every_id = pd.factorize(panel["account_id"])  # the column's own codes: fast on Arrow strings
    codes = every_code[looked_at]
    months = panel["month"].to_numpy()[looked_at]
    balance = panel["balance"].to_numpy(dtype=np.float64)[looked_at]
    paid = panel["amount_paid"].to_numpy(dtype=np.float64, na_value=np.nan)[looked_at]
    if not in_account_and_month_order(codes, months):  # a portfolio's panel is; a ledger's need not be
        order = np.lexsort((months, codes))
        codes, balance, paid = codes[order], balance[order], paid[order]
    # Each row paired with the same account's row the month before it.
    follows = np.zeros(len(codes), dtype=bool)
    follows[1:] = codes[1:] == codes[:-1]
    owed = np.zeros(len(codes))
    owed[1:] = balance[:-1]
    paired = follows & (owed > 0) & ~np.isnan(paid)
    if not paired.any():
        return None
    carried = np.clip(owed[paired] - paid[paired], 0.0, None)
    size = len(every_id)
    by_carried = np.bincount(codes[paired], weights=carried, minlength=size)
    by_owed = np.bincount(codes[paired], weights=owed[paired], minlength=size)
    return np.asarray(every_id, dtype=object), by_carried, by_owed
