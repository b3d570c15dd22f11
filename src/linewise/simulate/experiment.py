"""Champion/challenger tests: how many accounts a test needs, and what it found.

Arms are assigned by the strategy itself (a salted hash of the account: sticky, and
in the shares the strategy file gives). Here:

- :func:`accounts_needed`: the accounts each arm needs to see a rate move from one
  value to another with a two-sided test at a given significance and power (the
  normal approximation for two proportions, pooled under the null; the arms may be
  of unequal sizes). Written out rather than taken from a statistics package because
  it is three lines and linewise has no other use for one.
- :func:`readout`: each arm's later outcomes (30+ and 90+ days past due, utilisation,
  balance) with 95% intervals, and each challenger's difference from the champion.
  A sample-ratio-mismatch check comes first: when the arms' sizes are further from
  the shares than chance allows (chi-square, p < 0.001), the assignment or the data
  is broken and no result is shown. A verdict is given only when every arm has the
  accounts the test was sized for; before that, the figures are shown and said to be
  underpowered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest, chisquare, norm

from linewise.errors import InputError

__all__ = ["SRM_ALPHA", "Sizing", "accounts_needed", "readout", "sample_ratio_mismatch"]

SRM_ALPHA = 0.001
METRICS = {
    "dpd_30_plus": "share 30+ days past due",
    "dpd_90_plus": "share 90+ days past due",
    "utilisation": "mean utilisation",
    "balance": "mean balance (minor units)",
}
_RATES = ("dpd_30_plus", "dpd_90_plus")


@dataclass(frozen=True)
class Sizing:
    """What a test is sized to see: a rate moving from ``baseline`` to ``target``."""

    baseline: float
    target: float
    alpha: float = 0.05
    power: float = 0.8
    challenger_share: float = 0.5

    def __post_init__(self) -> None:
        _between_0_and_1("baseline_out_of_range", "baseline", self.baseline)
        _between_0_and_1("target_out_of_range", "target", self.target)
        _between_0_and_1("alpha_out_of_range", "alpha", self.alpha)
        _between_0_and_1("power_out_of_range", "power", self.power)
        _between_0_and_1("challenger_share_out_of_range", "challenger_share", self.challenger_share)
        if self.baseline == self.target:
            raise InputError.for_field(
                "target_out_of_range", where="sizing", field="target", rule="other than the baseline", value=self.target
            )


def _between_0_and_1(code: str, field: str, value: float) -> None:
    if not 0 < value < 1:  # NaN fails this too
        raise InputError.for_field(code, where="sizing", field=field, rule="between 0 and 1", value=value)


def accounts_needed(sizing: Sizing) -> dict[str, int]:
    """The accounts the champion and the challenger need, and the two together."""
    p1, p2 = sizing.baseline, sizing.target
    ratio = sizing.challenger_share / (1 - sizing.challenger_share)  # challenger accounts per champion account
    pooled = (p1 + ratio * p2) / (1 + ratio)
    z_alpha, z_power = norm.ppf(1 - sizing.alpha / 2), norm.ppf(sizing.power)
    spread = z_alpha * math.sqrt(pooled * (1 - pooled) * (1 + 1 / ratio)) + z_power * math.sqrt(
        p1 * (1 - p1) + p2 * (1 - p2) / ratio
    )
    champion = math.ceil(spread**2 / (p1 - p2) ** 2)
    challenger = math.ceil(champion * ratio)
    return {"champion": champion, "challenger": challenger, "total": champion + challenger}


def sample_ratio_mismatch(counts: dict[str, int], shares: dict[str, float]) -> dict[str, Any]:
    """Whether the arms' sizes stray from their shares by more than chance (chi-square)."""
    names = list(shares)
    observed = np.array([counts.get(name, 0) for name in names], dtype=np.float64)
    expected = np.array([shares[name] for name in names]) / sum(shares.values()) * observed.sum()
    p_value = float(chisquare(observed, expected).pvalue) if len(names) > 1 and observed.sum() else 1.0
    return {
        "counts": {name: int(count) for name, count in zip(names, observed, strict=True)},
        "expected": {name: round(float(value), 1) for name, value in zip(names, expected, strict=True)},
        "p_value": p_value,
        "mismatch": p_value < SRM_ALPHA,
    }


def readout(
    decisions: pd.DataFrame,
    later: pd.DataFrame,
    shares: dict[str, float],
    *,
    sizing: Sizing | None = None,
) -> dict[str, Any]:
    """Each arm's outcomes in ``later`` (the panel rows of a later month end), and the differences.

    ``decisions`` carry ``account_id`` and ``arm``; ``shares`` are the arms' shares as
    the strategy gives them, the champion's first. Accounts without a later row are
    left out and counted.
    """
    champion = next(iter(shares))
    outcome = _outcomes(later).reindex(decisions["account_id"])
    seen = outcome["balance"].notna().to_numpy()
    arms = decisions["arm"].astype(str).to_numpy()
    srm = sample_ratio_mismatch({name: int((arms == name).sum()) for name in shares}, shares)
    report: dict[str, Any] = {"champion": champion, "sample_ratio": srm, "not_seen_later": int((~seen).sum())}
    if srm["mismatch"]:
        report["verdict"] = "withheld: the arms' sizes do not match their shares (sample ratio mismatch)"
        return report
    per_arm = {name: outcome.loc[(arms == name) & seen] for name in shares}
    report["arms"] = {name: _describe(rows) for name, rows in per_arm.items()}
    report["differences"] = {
        name: {metric: _difference(per_arm[champion][metric], per_arm[name][metric]) for metric in METRICS}
        for name in shares
        if name != champion
    }
    report["verdict"] = _verdict(report, per_arm, champion, sizing)
    return report


def _outcomes(later: pd.DataFrame) -> pd.DataFrame:
    limit = later["credit_limit"].astype("float64")
    balance = later["balance"].astype("float64")
    return pd.DataFrame(
        {
            "dpd_30_plus": (later["dpd"] >= 30).astype("float64").to_numpy(),
            "dpd_90_plus": (later["dpd"] >= 90).astype("float64").to_numpy(),
            "utilisation": (balance / limit.where(limit > 0)).to_numpy(),
            "balance": balance.to_numpy(),
        },
        index=later["account_id"].astype(str).to_numpy(),
    )


def _describe(rows: pd.DataFrame) -> dict[str, Any]:
    out: dict[str, Any] = {"accounts": len(rows)}
    for metric in METRICS:
        values = rows[metric].dropna().to_numpy()
        if metric in _RATES:
            k = int(values.sum())
            interval = binomtest(k, len(values)).proportion_ci(0.95, method="wilson") if len(values) else None
            out[metric] = {
                "value": round(k / len(values), 6) if len(values) else None,
                "low": None if interval is None else round(float(interval.low), 6),
                "high": None if interval is None else round(float(interval.high), 6),
            }
        else:
            if len(values) < 2:  # no interval from fewer than two accounts
                out[metric] = {
                    "value": round(float(values.mean()), 6) if len(values) else None,
                    "low": None,
                    "high": None,
                }
                continue
            mean = float(values.mean())
            half = 1.96 * float(values.std(ddof=1)) / math.sqrt(len(values))
            out[metric] = {"value": round(mean, 6), "low": round(mean - half, 6), "high": round(mean + half, 6)}
    return out


def _difference(champion: pd.Series, challenger: pd.Series) -> dict[str, Any]:
    """Challenger minus champion, its 95% interval and two-sided p-value (normal approximation)."""
    a, b = champion.dropna().to_numpy(), challenger.dropna().to_numpy()
    if len(a) < 2 or len(b) < 2:
        return {"value": None, "low": None, "high": None, "p_value": None}
    difference = float(b.mean() - a.mean())
    error = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    p_value = float(2 * norm.sf(abs(difference) / error)) if error > 0 else 1.0
    return {
        "value": round(difference, 6),
        "low": round(difference - 1.96 * error, 6),
        "high": round(difference + 1.96 * error, 6),
        "p_value": round(p_value, 6),
    }


def _verdict(report: dict[str, Any], per_arm: dict[str, pd.DataFrame], champion: str, sizing: Sizing | None) -> str:
    if sizing is None:
        return "none: the test's sizing was not given (--baseline and --target)"
    needed = accounts_needed(sizing)
    short = [
        f"{name} {len(rows):,} of {needed['champion' if name == champion else 'challenger']:,}"
        for name, rows in per_arm.items()
        if len(rows) < needed["champion" if name == champion else "challenger"]
    ]
    if short:
        return "none yet: underpowered (" + ", ".join(short) + " accounts)"
    told = []
    for name, differences in report["differences"].items():
        move = differences["dpd_30_plus"]
        if move["p_value"] is not None and move["p_value"] < sizing.alpha:
            direction = "more" if move["value"] > 0 else "fewer"
            told.append(f"{name}: {direction} lines 30+ days past due than {champion} ({move['value']:+.2%})")
        else:
            told.append(f"{name}: no difference in lines 30+ days past due from {champion} at {sizing.alpha:g}")
    return "; ".join(told)
