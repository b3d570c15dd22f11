"""How the line is used: tenure, limit, utilisation, balance, drawings and their trends."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from linewise.features._arrays import (
    count_true,
    safe_ratio,
    window_max,
    window_mean,
    window_sum,
)
from linewise.features._customers import CustomerColumns, customer_columns, month_numbers
from linewise.features.registry import Evolution, FeatureSpec, RiskDirection, Source
from linewise.features.window import PanelWindow

__all__ = ["SPECS", "compute"]

_UP, _DOWN, _NONE = RiskDirection.INCREASING, RiskDirection.DECREASING, RiskDirection.NONE

SPECS: tuple[FeatureSpec, ...] = (
    FeatureSpec(
        "months_on_book",
        "开户月数",
        "months since the line was opened",
        Source.LEDGER,
        "months",
        _DOWN,
        False,
        Evolution.COUNTS_UP,
    ),
    FeatureSpec(
        "credit_limit", "当前额度", "current credit limit", Source.LEDGER, "minor_units", _DOWN, False, Evolution.HELD
    ),
    FeatureSpec(
        "utilisation_current",
        "当前额度使用率",
        "share of the limit in use now",
        Source.LEDGER,
        "ratio",
        _UP,
        True,
        Evolution.HELD,
    ),
    FeatureSpec(
        "utilisation_mean_3m",
        "近3个月平均额度使用率",
        "average share of the limit in use over the last 3 months",
        Source.LEDGER,
        "ratio",
        _UP,
        True,
        Evolution.HELD,
        3,
    ),
    FeatureSpec(
        "utilisation_mean_6m",
        "近6个月平均额度使用率",
        "average share of the limit in use over the last 6 months",
        Source.LEDGER,
        "ratio",
        _UP,
        True,
        Evolution.HELD,
        6,
    ),
    FeatureSpec(
        "utilisation_max_6m",
        "近6个月最高额度使用率",
        "highest share of the limit in use over the last 6 months",
        Source.LEDGER,
        "ratio",
        _UP,
        True,
        Evolution.HELD,
        6,
    ),
    # Directions on the balance trends and the mean balance below: paying down must never
    # read as more risk (benchmarks/monotone_directions.py measures what it costs).
    FeatureSpec(
        "utilisation_trend_6m",
        "额度使用率变化趋势",
        "change of utilisation against the 5 months before",
        Source.LEDGER,
        "ratio",
        _UP,
        True,
        Evolution.HELD,
        6,
        lowest=-math.inf,
    ),
    FeatureSpec(
        "balance_trend_6m",
        "近6个月欠款变化占额度比例",
        "change of the balance over 6 months, as a share of the limit",
        Source.LEDGER,
        "ratio",
        _UP,
        True,
        Evolution.HELD,
        6,
        lowest=-math.inf,
    ),
    FeatureSpec(
        "drawdown_months_6m",
        "近6个月有借款的月数",
        "months with new drawings in the last 6 months",
        Source.LEDGER,
        "count",
        _NONE,
        True,
        Evolution.HELD,
        6,
    ),
    FeatureSpec(
        "inactive_months_6m",
        "近6个月无应还款的月数",
        "months in the last 6 with nothing due",
        Source.LEDGER,
        "count",
        _NONE,
        False,
        Evolution.HELD,
        6,
    ),
    FeatureSpec(
        "payment_to_limit_3m",
        "近3个月还款额占额度比例",
        "payments in the last 3 months as a share of the limit",
        Source.LEDGER,
        "ratio",
        _DOWN,
        True,
        Evolution.HELD,
        3,
    ),
    FeatureSpec(
        "payment_to_limit_1m",
        "上月还款额占额度比例",
        "last month's payment as a share of the limit",
        Source.LEDGER,
        "ratio",
        _DOWN,
        True,
        Evolution.HELD,
        1,
    ),
    FeatureSpec(
        "payment_to_balance_1m",
        "上月还款额与前月欠款之比",
        "last month's payment over the balance the month before",
        Source.LEDGER,
        "ratio",
        _DOWN,
        True,
        Evolution.HELD,
        2,
    ),
    FeatureSpec(
        "payment_to_balance_3m",
        "近3个月还款额与欠款之比",
        "payments over the average balance in the last 3 months",
        Source.LEDGER,
        "ratio",
        _DOWN,
        True,
        Evolution.HELD,
        3,
    ),
    # Amounts, not only shares of the limit: utilisation cannot tell a small line in full
    # use from a large one, and a tree cannot multiply a share back into money.
    FeatureSpec(
        "available_credit",
        "当前可用额度",
        "credit still available on the line now",
        Source.LEDGER,
        "minor_units",
        _DOWN,
        True,
        Evolution.HELD,
        lowest=-math.inf,
    ),
    FeatureSpec(
        "balance_mean_6m",
        "近6个月平均欠款",
        "average amount owed over the last 6 months",
        Source.LEDGER,
        "minor_units",
        _UP,
        True,
        Evolution.HELD,
        6,
    ),
    FeatureSpec(
        "drawn_to_limit_3m",
        "近3个月新增借款占额度比例",
        "new drawings in the last 3 months as a share of the limit",
        Source.LEDGER,
        "ratio",
        _NONE,
        True,
        Evolution.HELD,
        3,
    ),
)

# Utilisation above this says nothing more (over-limit lines, tiny limits).
_UTILISATION_CAP = 2.0
_PAYMENT_RATIO_CAP = 10.0


def _payment_to_balance(paid: np.ndarray, balance: np.ndarray) -> np.ndarray:
    """Payments over the balance, capped; the cap where something was paid and nothing is owed.

    Paying a line off must read as the best cover, never as "unknown": a missing value
    would be scored as its own (riskier) bin.
    """
    ratio = np.minimum(safe_ratio(paid, balance), _PAYMENT_RATIO_CAP)
    return np.where((np.nan_to_num(balance) <= 0) & (paid > 0), _PAYMENT_RATIO_CAP, ratio)


def compute(window: PanelWindow, customers: pd.DataFrame | CustomerColumns) -> dict[str, np.ndarray]:
    """The usage features of every account in ``window``.

    Months on book count from ``opened_on`` when the customer table has it, else
    from the account's first panel row (a lower bound).
    """
    columns = customers if isinstance(customers, CustomerColumns) else customer_columns(customers, window.account_ids)
    since_opening = (window.month.year * 12 + window.month.month) - month_numbers(columns.dates["opened_on"])
    limit = window.values["credit_limit"]
    balance = np.maximum(window.values["balance"], 0.0)
    utilisation = np.minimum(safe_ratio(balance, limit), _UTILISATION_CAP)
    previous = window_mean(utilisation[:, 1:6])
    paid = window.recent("amount_paid", 3)
    drawn = window_sum(window.recent("drawn_amount", 3))
    return {
        "months_on_book": np.where(np.isnan(since_opening), window.months_since_first_row, since_opening),
        "credit_limit": limit[:, 0],
        "utilisation_current": utilisation[:, 0],
        "utilisation_mean_3m": window_mean(utilisation[:, :3]),
        "utilisation_mean_6m": window_mean(utilisation[:, :6]),
        "utilisation_max_6m": window_max(utilisation[:, :6]),
        "utilisation_trend_6m": utilisation[:, 0] - previous,
        "balance_trend_6m": safe_ratio(balance[:, 0] - balance[:, 5], limit[:, 0]),
        "drawdown_months_6m": count_true(window.recent("drawn_amount", 6) > 0),
        "inactive_months_6m": count_true(window.present[:, :6] & np.isnan(window.recent("on_time", 6))),
        "payment_to_limit_3m": safe_ratio(np.nansum(paid, axis=1), limit[:, 0]),
        "payment_to_limit_1m": safe_ratio(paid[:, 0], limit[:, 0]),
        "payment_to_balance_1m": np.minimum(
            safe_ratio(paid[:, 0], np.maximum(balance[:, 1], 100.0)), _PAYMENT_RATIO_CAP
        ),
        "payment_to_balance_3m": _payment_to_balance(np.nansum(paid, axis=1), window_mean(balance[:, :3])),
        "available_credit": limit[:, 0] - balance[:, 0],
        "balance_mean_6m": window_mean(balance[:, :6]),
        "drawn_to_limit_3m": safe_ratio(drawn, limit[:, 0]),
    }
