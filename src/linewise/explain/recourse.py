"""Recourse: the smallest set of steps a customer can really take that would raise the line.

Exact, not sampled. Each step moves named features the way the strategy and the
feature registry say they move; the steps are tried from the fewest and quickest up,
and each candidate is decided again by the same model and policy, so a suggestion
is made only when deciding on the changed features gives an increase. The first
candidate that works is kept, which makes it minimal: every smaller set (one step
fewer, or fewer months) was tried before it and did not work.

The steps (nothing else is ever suggested: never borrowing more, never other credit,
never anything the customer cannot change):

- ``repay_on_time_months=k``: k more months repaid on time. Time-driven features move
  as their :class:`~linewise.features.Evolution` says, conservatively: a window
  ratio or maximum is only assumed clean once the whole window is new months.
- ``clear_overdue``: repay what is overdue now.
- ``repay_at_least=<minor units>``: repay part of the balance, so that the share of
  the limit in use meets the strategy's gate.
- ``verify_income_at_least=<minor units>``: prove a monthly income of at least this.
- ``reduce_external_debt_to=<minor units>``: owe other lenders at most this.

Reviews are at month ends: a suggestion's date is the month end k months on.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from linewise.calendar import add_months, month_end
from linewise.features import REGISTRY, Evolution
from linewise.money import currency_exponent
from linewise.strategy.compiled import Check, Policy
from linewise.strategy.evaluate import Context, evaluate_policy
from linewise.strategy.spec import Operator

__all__ = [
    "MAX_MONTHS",
    "STEP_KINDS",
    "RecourseResult",
    "Step",
    "after_decision",
    "apply_steps",
    "find_recourse",
    "review_date",
]

# Recourse further off than a year is not a promise anyone should make.
MAX_MONTHS = 12
STEP_KINDS = ("repay_on_time_months", "clear_overdue", "repay_at_least",
              "verify_income_at_least", "reduce_external_debt_to")
# Suggested amounts are rounded to this many major units (in the customer's favour).
_ROUND_MAJOR = 100
_LEVERS = ("clear_overdue", "repay_at_least", "verify_income_at_least", "reduce_external_debt_to")

# The model: features -> (PD, score points), the score for rules and gates on it.
Scorer = Callable[[pd.DataFrame], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Step:
    """One step of a recourse: its kind and its figure (months or minor units; None for clear_overdue)."""

    kind: str
    value: int | None = None

    def encode(self) -> str:
        """``kind`` or ``kind=value``, as stored in a decision's ``recourse`` list."""
        return self.kind if self.value is None else f"{self.kind}={self.value}"

    @classmethod
    def decode(cls, text: str) -> Step:
        """The step :meth:`encode` wrote; ValueError naming the text when it is not one."""
        kind, _, value = text.partition("=")
        if kind not in STEP_KINDS or (kind == "clear_overdue") != (value == ""):
            raise ValueError(f"recourse step {text!r}: one of {', '.join(STEP_KINDS)}")
        if value and (not value.isdigit() or int(value) <= 0):
            raise ValueError(f"recourse step {text!r}: its figure must be a positive whole number")
        return cls(kind, int(value) if value else None)


def apply_steps(features: pd.DataFrame, steps: Sequence[Sequence[Step]]) -> pd.DataFrame:
    """``features`` (one row per account) with each account's ``steps`` taken.

    The values are those at the review the steps lead to (``repay_on_time_months``
    on; see :func:`review_date`).
    """
    if len(steps) != len(features):
        raise ValueError(f"apply_steps: {len(steps)} lists of steps for {len(features)} accounts")
    columns, values = _matrix(features)
    months = np.asarray([next((s.value or 0 for s in row if s.kind == "repay_on_time_months"), 0)
                         for row in steps], dtype="int64")
    taken = {kind: np.asarray([next((float(s.value or 0) for s in row if s.kind == kind), np.nan)
                               for row in steps]) for kind in _LEVERS}
    moved = _transform(values, columns, months, taken)
    return _frame(moved, columns, features, np.arange(len(features)))


def after_decision(features: pd.DataFrame, new_limit: np.ndarray) -> pd.DataFrame:
    """``features`` as they are once each line's limit is ``new_limit`` (a cut takes effect).

    The limit and what is measured against it (the share in use, the credit still
    available) move; the balance does not.
    """
    out = features.copy()
    old = out["credit_limit"].to_numpy(dtype="float64")
    new = np.asarray(new_limit, dtype="float64")
    out["credit_limit"] = new
    if "utilisation_current" in out.columns:
        with np.errstate(divide="ignore", invalid="ignore"):
            out["utilisation_current"] = np.where(
                new > 0, out["utilisation_current"].to_numpy(dtype="float64") * old / new,
                out["utilisation_current"].to_numpy(dtype="float64"))
    if "available_credit" in out.columns:
        out["available_credit"] = out["available_credit"].to_numpy(dtype="float64") - (old - new)
    return out


def review_date(as_of: date, months: int) -> date:
    """The month-end review ``months`` months after ``as_of`` (``as_of`` itself for 0)."""
    return as_of if months == 0 else month_end(add_months(as_of, months))


# --- features as a float matrix -------------------------------------------------------------

# Columns a lever may set; added (missing) when the features do not have them.
_LEVER_COLUMNS = ("dpd_current", "utilisation_current", "income_verified_monthly",
                  "income_age_months", "debt_to_income", "external_debt")


def _matrix(features: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    numeric = [c for c in features.columns if pd.api.types.is_numeric_dtype(features[c])]
    columns = [*numeric, *(c for c in _LEVER_COLUMNS if c not in features.columns)]
    values = np.full((len(features), len(columns)), np.nan)
    if numeric:
        values[:, :len(numeric)] = features[numeric].to_numpy(dtype="float64", na_value=np.nan)
    return columns, values


def _frame(values: np.ndarray, columns: list[str], features: pd.DataFrame,
           rows: np.ndarray) -> pd.DataFrame:
    """A frame of ``values`` with ``features``' text columns (at ``rows``) carried along."""
    frame = pd.DataFrame(values, columns=columns, index=features.index[rows])
    for name in features.columns:
        if name not in frame.columns:
            frame[name] = features[name].to_numpy()[rows]
    return frame


def _transform(values: np.ndarray, columns: list[str], months: np.ndarray,
               levers: dict[str, np.ndarray]) -> np.ndarray:
    """A new matrix: ``values`` with the levers taken, then ``months`` more months repaid on time.

    ``levers`` maps a lever to its figure per row, NaN where the row does not take it;
    ``months`` is per row.
    """
    out = values.copy()
    at = {name: i for i, name in enumerate(columns)}
    for kind in _LEVERS:
        figure = levers.get(kind)
        if figure is not None and not np.isnan(figure).all():
            _take_lever(out, at, kind, figure)
    for name, i in at.items():
        spec = REGISTRY.get(name)
        if spec is None or spec.evolution is Evolution.HELD:
            continue
        column = out[:, i]
        if spec.evolution in (Evolution.COUNTS_UP, Evolution.AGES):
            out[:, i] = column + months
            continue
        # Conservatively: a window is clean only once all of it is new months.
        whole = months >= (spec.window_months or math.inf)
        clean = 1.0 if spec.evolution is Evolution.WINDOW_ON_TIME else 0.0
        out[:, i] = np.where(whole & ~np.isnan(column), clean, column)
    if {"dpd_change_1m", "dpd_current", "dpd_1m_ago"} <= at.keys():
        # A difference of two features: it follows them, whatever moved them.
        change = out[:, at["dpd_current"]] - out[:, at["dpd_1m_ago"]]
        known = ~np.isnan(change)
        out[known, at["dpd_change_1m"]] = change[known]
    return out


def _take_lever(out: np.ndarray, at: dict[str, int], kind: str, figure: np.ndarray) -> None:
    """Take lever ``kind`` in ``out`` (in place) on the rows where ``figure`` is not NaN."""

    def col(name: str) -> np.ndarray:
        return out[:, at[name]] if name in at else np.full(len(out), np.nan)

    where = ~np.isnan(figure)
    limit, utilisation = col("credit_limit"), col("utilisation_current")
    income, external_raw = col("income_verified_monthly"), col("external_debt")
    external, debt_to_income = np.nan_to_num(external_raw), col("debt_to_income")
    # The debts debt_to_income counts: the line's balance and what is owed elsewhere.
    debts = np.where(np.isnan(debt_to_income),
                     np.maximum(np.nan_to_num(utilisation) * limit, 0.0) + external,
                     debt_to_income * income * 12)
    if kind == "clear_overdue":
        out[where, at["dpd_current"]] = 0.0
        return
    if kind == "repay_at_least":
        paid = np.where(where, figure, 0.0)
        out[:, at["utilisation_current"]] = utilisation - paid / limit
        if "available_credit" in at:
            out[:, at["available_credit"]] = col("available_credit") + paid
        debts = debts - paid
    elif kind == "verify_income_at_least":
        income = np.where(where, figure, income)
        out[:, at["income_verified_monthly"]] = income
        out[where, at["income_age_months"]] = 0.0
    else:  # reduce_external_debt_to
        lowered = np.where(where, np.minimum(figure, external), external)
        debts = debts - (external - lowered)
        out[:, at["external_debt"]] = np.where(where | ~np.isnan(external_raw), lowered, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        recomputed = np.where(np.isnan(income), debt_to_income, np.maximum(debts, 0.0) / (income * 12))
    out[where, at["debt_to_income"]] = recomputed[where]


# --- the search -----------------------------------------------------------------------------

# Candidate rows decided together: large enough to amortise a call, small enough for memory.
_BLOCK_ROWS = 400_000


@dataclass(frozen=True)
class RecourseResult:
    """Per account: the steps (encoded), the limit they would give (0 where none) and the review date."""

    steps: list[list[str]]
    new_limit: np.ndarray
    on: list[date | None]


def find_recourse(policy: Policy, features: pd.DataFrame, score: Scorer,
                  context: Context) -> RecourseResult:
    """The minimal steps that would raise each account of ``features``, within :data:`MAX_MONTHS`.

    For every row (accounts not increased by ``policy`` now): the steps that make
    ``policy``, with the model ``score`` (features -> PD and points), give an increase
    at a review, the limit it would give and the review's date. An account with none
    (at the top of the ladder, risk too high for a year of clean repayment, nothing
    due to judge it by) gets an empty list.
    """
    n = len(features)
    steps: list[list[str]] = [[] for _ in range(n)]
    new_limit = np.zeros(n, dtype="int64")
    on: list[date | None] = [None] * n
    if n == 0:
        return RecourseResult(steps, new_limit, on)
    columns, values = _matrix(features)
    levers = _lever_values(policy, features)
    unresolved = features["credit_limit"].to_numpy(dtype="float64") < policy.ladder[-1]
    changed_on = (None if context.last_limit_change_on is None
                  else pd.to_datetime(context.last_limit_change_on).to_numpy())
    # Decided on an event or a request, a line the periodic review would raise as it is
    # needs nothing from the customer: its recourse is no step at all.
    pending = deque(_candidates(with_nothing=context.trigger != "review"))
    while pending and unresolved.any():
        block: list[tuple[tuple[str, ...], int, np.ndarray]] = []
        rows = 0
        while pending and rows < _BLOCK_ROWS:
            chosen, months = pending.popleft()
            applies = unresolved.copy()
            for kind in chosen:
                applies &= ~np.isnan(levers[kind])
            if applies.any():
                block.append((chosen, months, np.flatnonzero(applies)))
                rows += int(applies.sum())
        if not block:
            break
        accounts = np.concatenate([index for _, _, index in block])
        months_of = np.concatenate([np.full(len(index), m) for _, m, index in block])
        taken = {kind: np.concatenate([levers[kind][index] if kind in chosen
                                       else np.full(len(index), np.nan)
                                       for chosen, _, index in block]) for kind in _LEVERS}
        candidate = np.concatenate([np.full(len(index), i) for i, (_, _, index) in enumerate(block)])
        frame = _frame(_transform(values[accounts], columns, months_of, taken), columns, features,
                       accounts)
        days_on = np.asarray([(review_date(context.as_of, int(m)) - context.as_of).days
                              for m in range(MAX_MONTHS + 1)])[months_of]
        # Deciding at the base date with the last change moved back is deciding at the review.
        shifted = None if changed_on is None else pd.Series(
            changed_on[accounts] - days_on.astype("timedelta64[D]"))
        pd_, points = score(frame)
        decided = evaluate_policy(policy, frame, pd_, Context(
            as_of=context.as_of, trigger="review", last_limit_change_on=shifted), points, reasons=False)
        raised = np.flatnonzero(decided["action"].to_numpy() == "increase")
        # Rows are in the candidates' order: an account's first raised row is its recourse.
        firsts = raised[np.unique(accounts[raised], return_index=True)[1]]
        limits = decided["new_limit"].to_numpy()
        for row in firsts:
            account = int(accounts[row])
            chosen, months_taken, _ = block[int(candidate[row])]
            taken_steps = [Step("repay_on_time_months", months_taken)] if months_taken else []
            taken_steps += [Step(kind, None if kind == "clear_overdue" else int(levers[kind][account]))
                            for kind in chosen]
            steps[account] = [step.encode() for step in taken_steps]
            new_limit[account] = int(limits[row])
            on[account] = review_date(context.as_of, months_taken)
        unresolved[accounts[firsts]] = False
    return RecourseResult(steps, new_limit, on)


def _candidates(*, with_nothing: bool) -> list[tuple[tuple[str, ...], int]]:
    """(levers, months) from the fewest steps up, then the soonest, then the levers' order.

    Doing nothing now is a candidate only ``with_nothing``.
    """
    sets = [combo for size in range(len(_LEVERS) + 1) for combo in itertools.combinations(_LEVERS, size)]
    pairs = [(combo, months) for combo in sets for months in range(MAX_MONTHS + 1)
             if combo or months or with_nothing]
    return sorted(pairs, key=lambda pair: (len(pair[0]) + (pair[1] > 0), pair[1]))


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name in frame.columns:
        return frame[name].to_numpy(dtype="float64", copy=True)
    return np.full(len(frame), np.nan)


def _lever_values(policy: Policy, features: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per lever and account, the figure the lever would use; NaN where it does not apply."""
    n = len(features)
    unit = 10 ** currency_exponent(policy.currency) * _ROUND_MAJOR
    limit = _column(features, "credit_limit")
    ladder = policy.ladder
    next_rung = ladder[np.minimum(np.searchsorted(ladder, limit, side="right"), len(ladder) - 1)]
    income = _column(features, "income_verified_monthly")
    external = np.nan_to_num(_column(features, "external_debt"))
    dpd = _column(features, "dpd_current")
    values: dict[str, np.ndarray] = {
        "clear_overdue": np.where(dpd > 0, 0.0, np.nan)}

    utilisation = _column(features, "utilisation_current")
    target = np.full(n, np.inf)
    for check in _gates_on(policy, "utilisation_current"):
        assert check.value is not None
        bound = check.value if check.op is Operator.LE else check.value - 0.005
        target = np.minimum(target, bound)
    excess = np.ceil((utilisation - target) * limit)
    values["repay_at_least"] = np.where(np.isfinite(excess) & (excess > 0), excess, np.nan)

    # Affordability: income * ratio - external * rate must cover the next rung's repayment.
    needed = np.ceil((next_rung * policy.line_payment_rate + external * policy.external_payment_rate)
                     / policy.debt_service_ratio_max / unit) * unit
    short = np.isnan(income) | (income < needed)
    values["verify_income_at_least"] = np.where(short & (next_rung > limit), needed, np.nan)
    allowed = np.floor((np.nan_to_num(income) * policy.debt_service_ratio_max
                        - next_rung * policy.line_payment_rate)
                       / policy.external_payment_rate / unit) * unit
    values["reduce_external_debt_to"] = np.where(
        ~np.isnan(income) & (external > 0) & (allowed >= 0) & (allowed < external), allowed, np.nan)
    return values


def _gates_on(policy: Policy, feature: str) -> list[Check]:
    checks = [*policy.gates, *(g for s in policy.segments for g in s.gates)]
    return [c for c in checks if c.feature == feature and c.op in (Operator.LE, Operator.LT)]
