"""Repayment behaviour: streaks, on-time ratios, days past due, payment coverage and amounts."""

from __future__ import annotations

import math

import numpy as np

from linewise.features._arrays import (
    count_true,
    safe_ratio,
    window_max,
    window_mean,
    window_min,
    window_sum,
)
from linewise.features.registry import Evolution, FeatureSpec, RiskDirection, Source
from linewise.features.window import PanelWindow

__all__ = ["SPECS", "compute"]

_UP, _DOWN = RiskDirection.INCREASING, RiskDirection.DECREASING
_WINDOWS = (3, 6, 12)

SPECS: tuple[FeatureSpec, ...] = (
    FeatureSpec(
        "on_time_streak",
        "连续按时还款月数",
        "consecutive months repaid on time",
        Source.LEDGER,
        "months",
        _DOWN,
        True,
        Evolution.COUNTS_UP,
    ),
    *(
        FeatureSpec(
            f"on_time_ratio_{n}m",
            f"近{n}个月按时还款比例",
            f"share of the last {n} months repaid on time",
            Source.LEDGER,
            "ratio",
            _DOWN,
            True,
            Evolution.WINDOW_ON_TIME,
            n,
            highest=1.0,
        )
        for n in _WINDOWS
    ),
    FeatureSpec("dpd_current", "当前逾期天数", "days past due now", Source.LEDGER, "days", _UP, True, Evolution.HELD),
    *(
        FeatureSpec(
            f"dpd_max_{n}m",
            f"近{n}个月最长逾期天数",
            f"longest days past due in the last {n} months",
            Source.LEDGER,
            "days",
            _UP,
            True,
            Evolution.WINDOW_CLEARS,
            n,
        )
        for n in _WINDOWS
    ),
    FeatureSpec(
        "delinquent_months_12m",
        "近12个月逾期月数",
        "months with an overdue payment in the last 12 months",
        Source.LEDGER,
        "count",
        _UP,
        True,
        Evolution.WINDOW_CLEARS,
        12,
    ),
    FeatureSpec(
        "dpd_1m_ago",
        "上月末逾期天数",
        "days past due a month ago",
        Source.LEDGER,
        "days",
        _UP,
        True,
        Evolution.WINDOW_CLEARS,
        2,
    ),
    FeatureSpec(
        "dpd_change_1m",
        "逾期天数较上月的变化",
        "change of days past due since last month",
        Source.LEDGER,
        "days",
        _UP,
        True,
        Evolution.HELD,
        2,
        lowest=-math.inf,
    ),
    FeatureSpec(
        "missed_payment_months_6m",
        "近6个月有应还款却未还款的月数",
        "months in the last 6 with an amount due and nothing paid",
        Source.LEDGER,
        "count",
        _UP,
        True,
        Evolution.WINDOW_CLEARS,
        6,
    ),
    FeatureSpec(
        "months_since_delinquency",
        "距上次逾期的月数",
        "months since the last overdue payment",
        Source.LEDGER,
        "months",
        _DOWN,
        True,
        Evolution.COUNTS_UP,
    ),
    FeatureSpec(
        "payment_to_due_ratio_3m",
        "近3个月还款额与应还额之比",
        "payments over amounts due in the last 3 months",
        Source.LEDGER,
        "ratio",
        _DOWN,
        True,
        Evolution.HELD,
        3,
    ),
    FeatureSpec(
        "revolving_months_6m",
        "近6个月未全额还款的月数",
        "months in the last 6 in which less than the amount due was paid",
        Source.LEDGER,
        "count",
        _UP,
        True,
        Evolution.WINDOW_CLEARS,
        6,
    ),
    FeatureSpec(
        "full_payment_ratio_6m",
        "近6个月全额还款的月份比例",
        "share of the last 6 months in which the whole amount due was paid",
        Source.LEDGER,
        "ratio",
        _DOWN,
        True,
        Evolution.WINDOW_ON_TIME,
        6,
        highest=1.0,
    ),
    # How deep and how long: two months at 30 days weigh more than one (the maxima and
    # counts above each see only one side of it).
    FeatureSpec(
        "dpd_mean_6m",
        "近6个月月末平均逾期天数",
        "average days past due at the month ends of the last 6 months",
        Source.LEDGER,
        "days",
        _UP,
        True,
        Evolution.WINDOW_CLEARS,
        6,
    ),
    # The worst month's cover of what fell due: one short month among full ones shows here,
    # not in the 3-month sum.
    FeatureSpec(
        "payment_to_due_min_6m",
        "近6个月单月还款额与应还额之比的最低值",
        "lowest share of the amount due repaid in a month of the last 6 months",
        Source.LEDGER,
        "ratio",
        _DOWN,
        True,
        Evolution.WINDOW_ON_TIME,
        6,
    ),
    # Repayment capacity shown in money: the ratios above cannot tell a small line
    # repaid in full from a large one.
    FeatureSpec(
        "payment_min_6m",
        "近6个月最低单月还款额",
        "smallest monthly payment in the last 6 months",
        Source.LEDGER,
        "minor_units",
        _DOWN,
        True,
        Evolution.HELD,
        6,
    ),
)

# Paying ten times what fell due says no more than paying it in full several times over.
_PAYMENT_RATIO_CAP = 10.0


def compute(window: PanelWindow) -> dict[str, np.ndarray]:
    """The repayment features of every account in ``window``."""
    out: dict[str, np.ndarray] = {
        "on_time_streak": window.on_time_months_since_delinquency,
        "dpd_current": window.values["dpd"][:, 0],
        "months_since_delinquency": window.months_since_delinquency,
    }
    for n in _WINDOWS:
        on_time = window.recent("on_time", n)
        out[f"on_time_ratio_{n}m"] = safe_ratio(count_true(on_time == 1.0), count_true(~np.isnan(on_time)))
        out[f"dpd_max_{n}m"] = window_max(window.recent("dpd", n))
    dpd, on_time = window.values["dpd"], window.values["on_time"]
    out["dpd_1m_ago"] = dpd[:, 1]
    out["dpd_change_1m"] = dpd[:, 0] - dpd[:, 1]
    out["delinquent_months_12m"] = count_true((dpd > 0) | (on_time == 0.0))
    # A month whose due or payment was never recorded is left out of both sides of a
    # ratio: an unrecorded payment is not a payment of 0.
    due, paid = window.recent("amount_due", 3), window.recent("amount_paid", 3)
    both_known = ~np.isnan(due) & ~np.isnan(paid)
    ratio = safe_ratio(window_sum(np.where(both_known, paid, np.nan)), window_sum(np.where(both_known, due, np.nan)))
    out["payment_to_due_ratio_3m"] = np.minimum(ratio, _PAYMENT_RATIO_CAP)
    due6, paid6 = window.recent("amount_due", 6), window.recent("amount_paid", 6)
    something_due = due6 > 0
    due_and_paid_known = something_due & ~np.isnan(paid6)
    out["missed_payment_months_6m"] = count_true(something_due & (paid6 == 0))
    out["revolving_months_6m"] = count_true(something_due & (paid6 < due6))
    out["full_payment_ratio_6m"] = safe_ratio(
        count_true(something_due & (paid6 >= due6)), count_true(due_and_paid_known)
    )
    out["dpd_mean_6m"] = window_mean(window.recent("dpd", 6))
    # Months with nothing due, or whose payment is unknown, have no cover (NaN is skipped).
    cover = np.minimum(safe_ratio(paid6, np.where(something_due, due6, np.nan)), _PAYMENT_RATIO_CAP)
    out["payment_to_due_min_6m"] = window_min(cover)
    out["payment_min_6m"] = window_min(paid6)
    return out
