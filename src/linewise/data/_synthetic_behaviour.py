"""Month-by-month account behaviour of the synthetic portfolio (private).

The formulas are stated in :mod:`linewise.data.synthetic`; this module carries them
out, vectorised over accounts with one step per month. Amounts are int64 minor units
while they are computed and int32 once stored (the largest limit of the generator
times any plausible growth stays far below 2**31 minor units).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

__all__ = [
    "DRAW_SEASON",
    "MISS_SEASON",
    "Accounts",
    "Behaviour",
    "id_strings",
    "logistic",
    "panel_frame",
    "simulate_behaviour",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Seasonality by calendar month (1..12), in logits: spending peaks around Chinese New
# Year (January, February) and Double Eleven (November); repayments slip after them.
DRAW_SEASON = np.array([0.30, 0.40, 0, 0, 0, 0, 0, 0, 0, 0, 0.35, 0.10])
MISS_SEASON = np.array([0, 0.10, 0.25, 0, 0, 0, 0, 0, 0, 0, 0, 0.20])

MISS_INTERCEPT = -3.7
MISS_RISK = 0.9
MISS_IN_ARREARS = 2.0
MISS_UTILISATION = 0.8
PARTIAL_SHARE = 0.3
FULL_PAY_INTERCEPT = -0.3
FULL_PAY_RISK = -0.8
MIN_PAY_RATE_PERMILLE = 100
MIN_PAY_MAJOR = 50
INTEREST_RATE_PERMILLE = 15
DRAW_INTERCEPT = 0.0
DRAW_RISK = 0.5
DRAW_FIRST_MONTH = 1.0
DRAW_SHARE_INTERCEPT = -1.0
DRAW_SHARE_RISK = 0.6
DRAW_SHARE_NOISE = 0.7
RAISE_PROBABILITY = 0.01
RAISE_TENURE_MONTHS = 6
CUT_PROBABILITY = 0.5
CUT_DPD = 60
UTILISATION_CAP = 1.5


def logistic(x: FloatArray) -> FloatArray:
    """The logistic function 1 / (1 + exp(-x))."""
    out: FloatArray = 1.0 / (1.0 + np.exp(-x))
    return out


@dataclass(frozen=True)
class Accounts:
    """What the month loop needs to know of each account."""

    risk: FloatArray
    first_index: IntArray
    tenure_at_start: IntArray
    due_day: IntArray
    limit: IntArray
    balance: IntArray
    calendar_months: IntArray
    days_in_month: IntArray
    major: int
    limit_min: int
    limit_max: int


@dataclass(frozen=True)
class Behaviour:
    """Panel values, shape (accounts, months); rows before opening are meaningless."""

    credit_limit: npt.NDArray[np.int32]
    balance: npt.NDArray[np.int32]
    amount_due: npt.NDArray[np.int32]
    amount_paid: npt.NDArray[np.int32]
    drawn_amount: npt.NDArray[np.int32]
    dpd: npt.NDArray[np.int16]
    on_time: npt.NDArray[np.int8]


@dataclass
class _State:
    limit: IntArray
    balance: IntArray
    arrears: IntArray
    dpd: IntArray


def simulate_behaviour(accounts: Accounts, rng: np.random.Generator) -> Behaviour:
    """Run the months of the window, oldest first (see the DGP in ``synthetic``)."""
    n, months = len(accounts.risk), len(accounts.calendar_months)
    shape = (n, months)
    out = Behaviour(
        credit_limit=np.zeros(shape, np.int32),
        balance=np.zeros(shape, np.int32),
        amount_due=np.zeros(shape, np.int32),
        amount_paid=np.zeros(shape, np.int32),
        drawn_amount=np.zeros(shape, np.int32),
        dpd=np.zeros(shape, np.int16),
        on_time=np.zeros(shape, np.int8),
    )
    zero = np.zeros(n, np.int64)
    state = _State(limit=accounts.limit.copy(), balance=accounts.balance.copy(), arrears=zero.copy(), dpd=zero.copy())
    for t in range(months):
        # An account opened in the window starts empty at its first limit; what the
        # loop computed for it before then is discarded with the rows before opening.
        opening = (accounts.first_index == t) & (accounts.tenure_at_start == 0)
        state.limit[opening] = accounts.limit[opening]
        state.balance[opening] = 0
        state.arrears[opening] = 0
        state.dpd[opening] = 0
        _step(accounts, state, t, opening, rng, out)
    return out


def _step(
    accounts: Accounts,
    state: _State,
    t: int,
    opening: BoolArray,
    rng: np.random.Generator,
    out: Behaviour,
    *,
    lender: bool = True,
    frozen: BoolArray | None = None,
) -> None:
    """One month of every account, written to ``out[:, t]``.

    ``lender`` False keeps every limit where it is (the generator's own lender does
    not act: the decisions played forward are someone else's); a ``frozen`` line
    draws nothing.
    """
    z = accounts.risk
    season = accounts.calendar_months[t] - 1
    previous = state.balance
    utilisation = np.clip(previous / state.limit, 0.0, UTILISATION_CAP)
    due = _amount_due(previous, state.arrears, accounts.major)

    miss_logit = (
        MISS_INTERCEPT
        + MISS_RISK * z
        + MISS_IN_ARREARS * (state.dpd > 0)
        + MISS_UTILISATION * utilisation
        + MISS_SEASON[season]
    )
    paid = _amount_paid(due, previous, z, logistic(miss_logit), rng)
    missed = paid < due
    first_miss_days = accounts.days_in_month[t] - accounts.due_day + 1
    dpd = np.where(missed, np.where(state.dpd > 0, state.dpd + accounts.days_in_month[t], first_miss_days), 0)
    carried = previous - paid
    interest = (carried * INTEREST_RATE_PERMILLE + 500) // 1000
    tenure = accounts.tenure_at_start + t - accounts.first_index
    limit = _new_limit(state.limit, carried, dpd, tenure, accounts, rng) if lender else state.limit

    draw_logit = DRAW_INTERCEPT + DRAW_RISK * z + DRAW_FIRST_MONTH * opening + DRAW_SEASON[season]
    share_logit = (
        DRAW_SHARE_INTERCEPT
        + DRAW_SHARE_RISK * z
        + DRAW_SEASON[season]
        + DRAW_SHARE_NOISE * rng.standard_normal(len(z))
    )
    draws = (rng.random(len(z)) < logistic(draw_logit)) & (dpd == 0)
    if frozen is not None:
        draws &= ~frozen
    available = np.maximum(limit - carried, 0)
    drawn = np.where(draws, (logistic(share_logit) * available).astype(np.int64), 0)
    drawn -= drawn % accounts.major

    state.limit, state.dpd = limit, dpd
    state.balance = carried + interest + drawn
    state.arrears = np.where(missed, due - paid, 0)
    assert state.balance.max(initial=0) < np.iinfo(np.int32).max, "int32 storage overflow"
    out.credit_limit[:, t] = limit
    out.balance[:, t] = state.balance
    out.amount_due[:, t] = due
    out.amount_paid[:, t] = paid
    out.drawn_amount[:, t] = drawn
    out.dpd[:, t] = dpd
    # 1 on time, 0 late, -1 nothing fell due.
    out.on_time[:, t] = np.where(due > 0, (~missed).astype(np.int8), -1)


def _amount_due(balance: IntArray, arrears: IntArray, major: int) -> IntArray:
    """Arrears plus 10% of the rest (at least 50 major units), never above the balance."""
    current = balance - arrears
    minimum = np.maximum((current * MIN_PAY_RATE_PERMILLE + 999) // 1000, MIN_PAY_MAJOR * major)
    due: IntArray = np.where(balance > 0, np.minimum(balance, arrears + minimum), 0)
    return due


def _amount_paid(
    due: IntArray, balance: IntArray, z: FloatArray, p_miss: FloatArray, rng: np.random.Generator
) -> IntArray:
    n = len(due)
    u_miss, u_kind, u_amount = rng.random(n), rng.random(n), rng.random(n)
    missed = (u_miss < p_miss) & (due > 0)
    partial = np.floor((0.1 + 0.8 * u_amount) * due).astype(np.int64)
    paid_when_missed = np.where(u_kind < PARTIAL_SHARE, np.minimum(partial, due - 1), 0)
    pays_in_full = u_kind < logistic(FULL_PAY_INTERCEPT + FULL_PAY_RISK * z)
    extra = np.floor(0.5 * u_amount * (balance - due)).astype(np.int64)
    paid_when_paying = np.where(pays_in_full, balance, due + extra)
    paid: IntArray = np.where(missed, paid_when_missed, np.where(due > 0, paid_when_paying, 0))
    return paid


def _new_limit(
    limit: IntArray, carried: IntArray, dpd: IntArray, tenure: IntArray, accounts: Accounts, rng: np.random.Generator
) -> IntArray:
    """Cut to the balance at 60+ dpd (half the time), or a rare raise when current."""
    n = len(limit)
    u_event, u_size = rng.random(n), rng.random(n)
    step = 500 * accounts.major
    cut_to = np.clip(-(-carried // (100 * accounts.major)) * 100 * accounts.major, accounts.limit_min, limit)
    raised = np.minimum(np.round(limit * (1.1 + 0.4 * u_size) / step).astype(np.int64) * step, accounts.limit_max)
    is_cut = (dpd >= CUT_DPD) & (u_event < CUT_PROBABILITY)
    is_raised = (dpd == 0) & (tenure >= RAISE_TENURE_MONTHS) & (u_event < RAISE_PROBABILITY)
    new: IntArray = np.where(is_cut, cut_to, np.where(is_raised, np.maximum(raised, limit), limit))
    return new


def panel_frame(
    behaviour: Behaviour, first_index: IntArray, id_chars: npt.NDArray[np.uint8], month_ends: pd.DatetimeIndex
) -> pd.DataFrame:
    """The panel rows from each account's opening month on, account by account."""
    n, months = behaviour.balance.shape
    active = (np.arange(months)[None, :] >= first_index[:, None]).ravel()
    columns: dict[str, object] = {
        "account_id": id_strings(np.repeat(id_chars, months - first_index, axis=0)),
        "month": np.broadcast_to(month_ends.to_numpy(), (n, months)).ravel()[active],
    }
    for name in ("credit_limit", "balance", "amount_due", "amount_paid", "drawn_amount", "dpd"):
        columns[name] = getattr(behaviour, name).ravel()[active]
    codes = behaviour.on_time.ravel()[active]
    columns["on_time"] = pd.arrays.BooleanArray(codes == 1, codes < 0)
    return pd.DataFrame(columns, copy=False)


def id_strings(chars: npt.NDArray[np.uint8]) -> pd.Series:
    """Fixed-width ASCII ids, one per row of ``chars``, without a Python string each."""
    rows, width = chars.shape
    offsets = np.arange(rows + 1, dtype=np.int64) * width
    strings = pa.LargeStringArray.from_buffers(rows, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(chars)))
    series: pd.Series = strings.to_pandas()
    return series
