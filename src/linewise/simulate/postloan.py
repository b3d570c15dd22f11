"""Post-loan views of a book: buckets, roll and flow rates, vintages, early warnings, cuts and after.

Delinquency buckets follow the Chinese lenders' M-notation by days past due at month
end: M0 current, M1 1-30, M2 31-60, M3 61-90, M4 91-120, M5 121-150, M6+ over 150.

- **Buckets over time**: per month, the lines and the balance in each bucket.
- **Roll rates**: from each bucket at one month end to each at the next, pooled over
  every pair of consecutive months (lines counted; each row sums to 1).
- **Flow rates** (迁徙率), as the lenders read them: the share of the balance in Mk
  at one month end that is in Mk+1 at the next (M0→M1, M1→M2, ...), per month.
- **Vintages**: for lines opened in a month the panel covers from its start, the
  share that has ever been 30 or more days past due by each month on book. Lines
  opened before the panel's first month are left out: their early months are not
  seen.
- **Early warnings**: lines current at the last month whose behaviour is worsening,
  with the reasons (see :data:`WARNINGS`).
- **Cuts and after**: lines whose limit fell from one month end to the next, and
  where they stood in the months that followed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["BUCKETS", "WARNINGS", "bucket_of", "early_warnings", "post_loan"]

BUCKETS = ("M0", "M1", "M2", "M3", "M4", "M5", "M6+")
_EDGES = np.array([0, 30, 60, 90, 120, 150])

# Each warning: its code and what it tells, in words an analyst reads.
WARNINGS = {
    "nothing_paid": "paid nothing this month against last month's balance, though not late yet",
    "recently_late": "late in one of the last six months, current again now",
    "near_limit": "using at least 90% of the limit",
    "utilisation_rising": "utilisation up at least 20 points in three months, to at least 70%",
    "paying_less": "paid less than half the share of the balance it paid on average before",
}


def bucket_of(dpd: np.ndarray) -> np.ndarray:
    """The bucket index (0 for M0 ... 6 for M6+) of each days-past-due value."""
    index: np.ndarray = np.minimum(
        np.searchsorted(_EDGES, np.asarray(dpd, dtype=np.int64), side="left"), len(BUCKETS) - 1
    )
    return index


def post_loan(panel: pd.DataFrame, customers: pd.DataFrame, *, warnings_shown: int = 20) -> dict[str, Any]:
    """Every post-loan view of the book in ``panel`` (validated, one row per account and month)."""
    frame = panel[["account_id", "month", "credit_limit", "balance", "amount_due", "amount_paid", "dpd"]].copy()
    frame = frame.sort_values(["account_id", "month"], ignore_index=True)
    frame["bucket"] = bucket_of(frame["dpd"].to_numpy())
    warnings = early_warnings(frame)
    return {
        "buckets": _buckets(frame),
        "roll_rates": _roll_rates(frame),
        "flow_rates": _flow_rates(frame),
        "vintages": _vintages(frame, customers),
        "early_warnings": {
            "as_of": frame["month"].max().date().isoformat(),
            "lines": len(warnings),
            "by_reason": {code: int(warnings["reasons"].map(lambda r, c=code: c in r).sum()) for code in WARNINGS},
            "worst": [
                {"account_id": str(account), "reasons": list(reasons), "utilisation": round(float(utilisation), 4)}
                for account, reasons, utilisation in zip(
                    *(
                        warnings[column].head(warnings_shown).tolist()
                        for column in ("account_id", "reasons", "utilisation")
                    ),
                    strict=True,
                )
            ],
        },
        "cuts": _cuts(frame),
    }


def _buckets(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for month, rows in frame.groupby("month", sort=True):
        assert isinstance(month, pd.Timestamp)
        counts = np.bincount(rows["bucket"], minlength=len(BUCKETS))
        balances = np.bincount(rows["bucket"], weights=rows["balance"].astype("float64"), minlength=len(BUCKETS))
        out.append(
            {
                "month": month.date().isoformat(),
                "lines": dict(zip(BUCKETS, map(int, counts), strict=True)),
                "balance": dict(zip(BUCKETS, map(int, balances), strict=True)),
            }
        )
    return out


def _pairs(frame: pd.DataFrame) -> pd.DataFrame:
    """Each row with the same account's row of the next month (consecutive month ends only)."""
    following = frame.groupby("account_id", sort=False).shift(-1)
    months_apart = (following["month"].dt.year - frame["month"].dt.year) * 12 + (
        following["month"].dt.month - frame["month"].dt.month
    )
    paired = months_apart == 1
    return pd.DataFrame(
        {
            "month": frame.loc[paired, "month"],
            "from": frame.loc[paired, "bucket"].astype(int),
            "to": following.loc[paired, "bucket"].astype(int),
            "balance": frame.loc[paired, "balance"].astype("float64"),
        }
    )


def _roll_rates(frame: pd.DataFrame) -> dict[str, Any]:
    pairs = _pairs(frame)
    counts = np.zeros((len(BUCKETS), len(BUCKETS)), dtype=np.int64)
    np.add.at(counts, (pairs["from"].to_numpy(), pairs["to"].to_numpy()), 1)
    rates = {}
    for i, name in enumerate(BUCKETS):
        total = counts[i].sum()
        if total:
            rates[name] = {to: round(float(counts[i, j] / total), 6) for j, to in enumerate(BUCKETS)}
    return {
        "lines": {name: dict(zip(BUCKETS, map(int, counts[i]), strict=True)) for i, name in enumerate(BUCKETS)},
        "rates": rates,
    }


def _flow_rates(frame: pd.DataFrame) -> list[dict[str, Any]]:
    pairs = _pairs(frame)
    out = []
    for month, rows in pairs.groupby("month", sort=True):
        assert isinstance(month, pd.Timestamp)
        flows: dict[str, float | None] = {}
        for k in range(len(BUCKETS) - 1):
            start = rows["from"] == k
            base = rows.loc[start, "balance"].sum()
            rolled = rows.loc[start & (rows["to"] == k + 1), "balance"].sum()
            flows[f"{BUCKETS[k]}->{BUCKETS[k + 1]}"] = round(float(rolled / base), 6) if base > 0 else None
        out.append({"from": month.date().isoformat(), **flows})
    return out


def _vintages(frame: pd.DataFrame, customers: pd.DataFrame) -> dict[str, Any]:
    opened = customers.set_index("account_id")["opened_on"]
    first_month = frame["month"].min()
    rows = frame.assign(opened=pd.to_datetime(frame["account_id"].map(opened)))
    rows = rows.loc[rows["opened"].notna() & (rows["opened"] >= first_month - pd.offsets.MonthBegin(1))]
    if rows.empty:
        return {"cohorts": {}, "left_out": "no line opened within the months the panel covers"}
    rows = rows.assign(
        cohort=rows["opened"].dt.to_period("M").astype(str),
        on_book=(rows["month"].dt.year - rows["opened"].dt.year) * 12
        + rows["month"].dt.month
        - rows["opened"].dt.month,
        bad=rows["dpd"] >= 30,
    )
    rows["ever_bad"] = rows.groupby("account_id", sort=False)["bad"].cummax()
    curves: dict[str, dict[str, Any]] = {}
    for cohort, cohort_rows in rows.groupby("cohort", sort=True):
        by_age = cohort_rows.groupby("on_book")["ever_bad"].agg(["mean", "size"])
        curves[str(cohort)] = {
            "lines": int(cohort_rows["account_id"].nunique()),
            "ever_30_plus": {str(int(age)): round(float(rate), 6) for age, rate in by_age["mean"].items()},
        }
    return {"cohorts": curves}


def early_warnings(frame: pd.DataFrame) -> pd.DataFrame:
    """Lines current at the last month whose behaviour worsens: account, reasons, utilisation.

    ``frame`` is a panel with ``bucket``; the most warned first, then the fullest lines.
    """
    months = pd.DatetimeIndex(sorted(frame["month"].unique()))
    if len(months) < 4:
        return pd.DataFrame(columns=["account_id", "reasons", "utilisation"])
    wide = {
        column: frame.pivot(index="account_id", columns="month", values=column).reindex(columns=months)
        for column in ("credit_limit", "balance", "amount_paid", "dpd")
    }
    limit = wide["credit_limit"].astype("float64")
    balance = wide["balance"].astype("float64")
    utilisation = balance / limit.where(limit > 0)
    paid = wide["amount_paid"].astype("float64")
    # The share of last month's balance paid this month.
    pay_share = paid / balance.shift(1, axis=1).where(balance.shift(1, axis=1) > 0)
    now, before = months[-1], months[-4]
    current = (wide["dpd"][now] == 0) & balance[now].notna()
    owed = balance.shift(1, axis=1)
    signals = {
        "nothing_paid": (paid[now] == 0) & (owed[now] > 0),  # an unknown payment is not a missing one
        "recently_late": (wide["dpd"][months[-7:-1]] > 0).any(axis=1),
        "near_limit": utilisation[now] >= 0.9,
        "utilisation_rising": (utilisation[now] - utilisation[before] >= 0.2) & (utilisation[now] >= 0.7),
        "paying_less": (pay_share[now] < 0.5 * pay_share[months[:-1]].mean(axis=1)) & (balance[now] > 0),
    }
    flags = pd.DataFrame({code: signal.fillna(False).astype(bool) for code, signal in signals.items()})
    warned = flags.any(axis=1) & current.fillna(False)
    chosen = flags.loc[warned]
    out = pd.DataFrame(
        {
            "account_id": chosen.index.astype(str),
            "reasons": [tuple(code for code in WARNINGS if row[code]) for _, row in chosen.iterrows()],
            "utilisation": utilisation.loc[chosen.index, now].fillna(0.0).to_numpy(),
            "signals": chosen.sum(axis=1).to_numpy(),
        }
    )
    out = out.sort_values(["signals", "utilisation"], ascending=[False, False], ignore_index=True)
    return out.drop(columns="signals")


def _cuts(frame: pd.DataFrame) -> dict[str, Any]:
    """Lines whose limit fell, and where they stood one to three months later."""
    following = {k: frame.groupby("account_id", sort=False)[["month", "dpd", "balance"]].shift(-k) for k in (1, 2, 3)}
    before = frame.groupby("account_id", sort=False)["credit_limit"].shift(1)
    cut = (frame["credit_limit"] < before).fillna(False).to_numpy(dtype=bool)
    if not cut.any():
        return {"lines": 0}
    out: dict[str, Any] = {
        "lines": int(cut.sum()),
        "late_when_cut": round(float((frame.loc[cut, "dpd"] > 0).mean()), 6),
        "after": {},
    }
    for k, rows in following.items():
        apart = (rows["month"].dt.year - frame["month"].dt.year) * 12 + rows["month"].dt.month - frame["month"].dt.month
        seen = cut & (apart == k).fillna(False).to_numpy(dtype=bool)
        if not seen.any():
            continue
        late_then = frame.loc[seen, "dpd"] > 0
        later = rows.loc[seen, "dpd"] > 0
        out["after"][f"{k} month{'s' if k > 1 else ''}"] = {
            "lines": int(seen.sum()),
            "late": round(float(later.mean()), 6),
            "cured": round(float((late_then & ~later).sum() / max(int(late_then.sum()), 1)), 6),
            "balance_change": round(float((rows.loc[seen, "balance"] - frame.loc[seen, "balance"]).mean()), 2),
        }
    return out
