"""Recourse: the smallest set of steps a customer can really take that would raise the line.

Exact, not sampled, and checked by living it. Each candidate is carried out as real
months (:mod:`linewise.features.projection`): the customer uses the line as now and
pays each bill, the steps are taken in the first month, the features are computed
from the projected months by the same code a review uses, and the same model and
policy decide again at the month-end review the candidate leads to. A suggestion is
made only when that gives an increase under every way of paying the strategy counts
as on time (each bill in full; only the minimum, where the strategy says it counts),
and its limit is the lowest of them. Candidates go from the fewest steps and the
soonest review up, so the first that works is minimal: every smaller set (one step
fewer, or fewer months) was lived before it and did not work.

The steps (nothing else is ever suggested: never borrowing more, never other credit,
never anything the customer cannot change):

- ``repay_on_time_months=k``: pay each bill on time until the review k month ends on
  (told only when something falls due in those months; a line with nothing due is
  told the review's date, with nothing to do).
- ``clear_overdue``: repay what is overdue now.
- ``repay_at_least=<minor units>``: pay off part of the balance, so that the share of
  the limit in use meets the strategy's gate; exact to the minor unit.
- ``verify_income_at_least=<minor units>``: prove a monthly income of at least this.
- ``reduce_external_debt_to=<minor units>``: owe other lenders at most this.
- ``no_new_credit_applications``: apply for no credit elsewhere until the review (at
  least the 6 months the bureau counts applications over).
- ``repay_other_lenders_on_time``: repay every other lender on time until the review
  (at least the 12 months the bureau looks back over for lateness).

A step other than waiting is taken in the month after the decision, so its review is
at that month's end at the soonest.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import numpy as np
import pandas as pd

from linewise.calendar import add_months, month_end
from linewise.features import CustomerColumns, customer_columns, features_from_columns
from linewise.features.projection import (
    AGED_OUT_MONTHS,
    Behaviour,
    History,
    Plan,
    project_columns,
)
from linewise.features.window import PanelWindow
from linewise.money import currency_exponent
from linewise.strategy.compiled import Check, Policy
from linewise.strategy.evaluate import Context, policy_actions
from linewise.strategy.spec import Operator

__all__ = [
    "MAX_MONTHS",
    "STEP_KINDS",
    "RecourseResult",
    "Step",
    "after_decision",
    "behaviours",
    "find_recourse",
    "review_date",
]

# Recourse further off than a year is not a promise anyone should make.
MAX_MONTHS = 12
STEP_KINDS = (
    "repay_on_time_months",
    "clear_overdue",
    "repay_at_least",
    "verify_income_at_least",
    "reduce_external_debt_to",
    "no_new_credit_applications",
    "repay_other_lenders_on_time",
)
# Steps that carry no figure.
_PLAIN = ("clear_overdue", "no_new_credit_applications", "repay_other_lenders_on_time")
# Tried in this order among sets of the same size: owing less elsewhere comes before
# proving a (higher) income, which a customer cannot simply do.
_LEVERS = (
    "clear_overdue",
    "repay_at_least",
    "reduce_external_debt_to",
    "verify_income_at_least",
    "no_new_credit_applications",
    "repay_other_lenders_on_time",
)
# The steps on other lenders, the bureau count each clears, and so the fewest months
# it needs before it can show (that count's look-back).
_ELSEWHERE = {
    "no_new_credit_applications": "bureau_enquiries_6m",
    "repay_other_lenders_on_time": "external_dpd_max_12m",
}
_LEVER_MONTHS = {kind: AGED_OUT_MONTHS[column] for kind, column in _ELSEWHERE.items()}

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
        if kind not in STEP_KINDS or (kind in _PLAIN) != (value == ""):
            raise ValueError(f"recourse step {text!r}: one of {', '.join(STEP_KINDS)}")
        if value and (not value.isdigit() or int(value) <= 0):
            raise ValueError(f"recourse step {text!r}: its figure must be a positive whole number")
        return cls(kind, int(value) if value else None)


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
                new > 0,
                out["utilisation_current"].to_numpy(dtype="float64") * old / new,
                out["utilisation_current"].to_numpy(dtype="float64"),
            )
    if "available_credit" in out.columns:
        out["available_credit"] = out["available_credit"].to_numpy(dtype="float64") - (old - new)
    return out


def review_date(as_of: date, months: int, *, month_so_far: bool = False) -> date:
    """The month-end review ``months`` month ends after the month the features end with.

    ``as_of`` itself for 0. The months are the ones a recourse is lived over: a decision
    in mid-October counts October as its first month, as the features it was made from
    end at September's close; unless they hold October so far (``month_so_far``: read
    from the ledger mid-month), when November is the first.
    """
    if months == 0:
        return as_of
    if month_so_far:
        return month_end(add_months(month_end(as_of), months))
    closed = as_of if month_end(as_of) == as_of else month_end(add_months(as_of, -1))
    return month_end(add_months(closed, months))


# --- the search -----------------------------------------------------------------------------


def behaviours(policy: Policy) -> tuple[Behaviour, ...]:
    """The ways of paying a promise must hold under: in full, and the minimum where it counts as on time."""
    if policy.minimum_payment_bp is None:
        return (Behaviour.PAY_IN_FULL,)
    return (Behaviour.PAY_IN_FULL, Behaviour.PAY_MINIMUM)


@dataclass(frozen=True)
class RecourseResult:
    """Per account: the steps (encoded), the limit they would give (0 where none) and the review date."""

    steps: list[list[str]]
    new_limit: np.ndarray
    on: list[date | None]


# Candidate rows lived together: large enough to amortise a call, small enough that a
# block's projected windows and features stay within a few hundred MB.
_BLOCK_ROWS = 200_000


@dataclass(frozen=True)
class _Searched:
    """The accounts searched, as lived: their panel window and customers' columns, row for row."""

    window: PanelWindow
    customers: CustomerColumns


@dataclass(frozen=True)
class _Block:
    """Candidate rows: the account (position) of each, its months and the lever figures taken."""

    accounts: np.ndarray
    months: np.ndarray
    candidate: np.ndarray
    taken: dict[str, np.ndarray]


def find_recourse(
    policy: Policy, features: pd.DataFrame, history: History, score: Scorer, context: Context
) -> RecourseResult:
    """The minimal steps that would raise each account of ``features``, within :data:`MAX_MONTHS`.

    ``features`` are the accounts (not increased by ``policy`` now) as decided (a cut
    in effect), ``history`` what they were computed from, row for row. For every
    account: the steps that make ``policy``, with the model ``score`` (features -> PD
    and points), give an increase at a review when lived (see the module), the
    lowest limit it would give over :func:`behaviours` and the review's date. An
    account with none (at the top of the ladder, risk too high for a year of clean
    repayment, nothing due to judge it by) gets an empty list and limit 0.
    """
    n = len(features)
    steps: list[list[str]] = [[] for _ in range(n)]
    new_limit = np.zeros(n, dtype="int64")
    on: list[date | None] = [None] * n
    if n == 0:
        return RecourseResult(steps, new_limit, on)
    if len(history) != n:
        raise ValueError(f"find_recourse: history of {len(history)} accounts for {n}")
    limit = features["credit_limit"].to_numpy(dtype="float64").astype("int64")
    levers = _lever_values(policy, features, history, limit)
    searched = _Searched(history.window, customer_columns(history.customers, history.window.account_ids, aligned=True))
    unresolved = limit < policy.ladder[-1]
    if context.trigger != "review":
        # Decided on an event or a request, a line the periodic review would raise as it
        # is needs nothing from the customer: its recourse is no step at all.
        pd_, points = score(features)
        action, raised_to = policy_actions(
            policy,
            features,
            pd_,
            Context(as_of=context.as_of, last_limit_change_on=context.last_limit_change_on),
            points,
        )
        raised = np.flatnonzero((action == "increase") & unresolved)
        new_limit[raised] = raised_to[raised]
        for row in raised:
            on[row] = context.as_of
        unresolved[raised] = False
    pending = deque(range(len(_CANDIDATES)))
    found = _Found(steps, new_limit, on, unresolved)
    if 0 < unresolved.sum() <= _PROBED_WITH_FIRST_BLOCK:
        # Few accounts: a lived call costs more than its rows, so the reach probe and the
        # first candidates are lived in one; the candidates of accounts out of reach
        # are then dropped, as if never lived.
        probe = _probe(levers, np.flatnonzero(unresolved))
        first = _next_block(pending, levers, unresolved)
        both = probe if first is None else _joined(probe, first)
        raised, limits, due = _live(policy, both, searched, limit, score, context)
        reach = np.zeros(n, dtype=bool)
        reach[probe.accounts[raised[raised < len(probe.accounts)]]] = True
        unresolved &= reach
        if first is not None:
            offset = len(probe.accounts)
            kept = raised[raised >= offset]
            kept = kept[reach[both.accounts[kept]]]
            found.settle(first, kept - offset, limits[offset:], due[offset:], levers, context)
    else:
        unresolved &= _within_reach(policy, levers, unresolved, searched, limit, score, context)
    while pending and unresolved.any():
        block = _next_block(pending, levers, unresolved)
        if block is None:
            break
        raised, limits, due = _live(policy, block, searched, limit, score, context)
        found.settle(block, raised, limits, due, levers, context)
    return RecourseResult(steps, new_limit, on)


# Unresolved accounts up to which the reach probe is lived with the first candidates.
_PROBED_WITH_FIRST_BLOCK = 64


@dataclass(frozen=True)
class _Found:
    """The search's results so far (filled in place), and which accounts are still unresolved."""

    steps: list[list[str]]
    new_limit: np.ndarray
    on: list[date | None]
    unresolved: np.ndarray

    def settle(
        self,
        block: _Block,
        raised: np.ndarray,
        limits: np.ndarray,
        due: np.ndarray,
        levers: dict[str, np.ndarray],
        context: Context,
    ) -> None:
        """Give each account with a ``raised`` row of ``block`` its first one as its recourse."""
        # Rows are in the candidates' order: an account's first raised row is its recourse.
        firsts = raised[np.unique(block.accounts[raised], return_index=True)[1]]
        for row in firsts:
            account = int(block.accounts[row])
            chosen, months = _CANDIDATES[int(block.candidate[row])]
            taken = [Step(kind, None if kind in _PLAIN else int(levers[kind][account])) for kind in chosen]
            if due[row]:
                taken.append(Step("repay_on_time_months", months))
            self.steps[account] = [step.encode() for step in taken]
            self.new_limit[account] = int(limits[row])
            self.on[account] = review_date(context.as_of, months, month_so_far=context.month_so_far)
        self.unresolved[block.accounts[firsts]] = False


def _within_reach(
    policy: Policy,
    levers: dict[str, np.ndarray],
    unresolved: np.ndarray,
    searched: _Searched,
    limit: np.ndarray,
    score: Scorer,
    context: Context,
) -> np.ndarray:
    """Per account, whether every step it can take at once raises it at some review within the year.

    An account that not even all its steps together can raise is given no recourse
    without trying each smaller set (most held accounts with none are found here, at a
    twelfth of the cost of the whole search). Every promise is still the first
    candidate of the ordered search that lived through.
    """
    reach = np.zeros(len(unresolved), dtype=bool)
    accounts = np.flatnonzero(unresolved)
    step = max(1, _BLOCK_ROWS // MAX_MONTHS)
    for start in range(0, len(accounts), step):
        block = _probe(levers, accounts[start : start + step])
        raised, _, _ = _live(policy, block, searched, limit, score, context)
        reach[block.accounts[raised]] = True
    return reach


def _probe(levers: dict[str, np.ndarray], accounts: np.ndarray) -> _Block:
    """Rows for ``accounts`` taking every step each can, reviewed after each of 1..MAX_MONTHS months."""
    part = np.repeat(accounts, MAX_MONTHS)
    return _Block(
        accounts=part,
        months=np.tile(np.arange(1, MAX_MONTHS + 1), len(accounts)),
        candidate=np.full(len(part), -1),
        taken={kind: levers[kind][part] for kind in _LEVERS},
    )


def _joined(first: _Block, second: _Block) -> _Block:
    """The rows of ``first`` then those of ``second``."""
    return _Block(
        accounts=np.concatenate([first.accounts, second.accounts]),
        months=np.concatenate([first.months, second.months]),
        candidate=np.concatenate([first.candidate, second.candidate]),
        taken={kind: np.concatenate([first.taken[kind], second.taken[kind]]) for kind in _LEVERS},
    )


def _candidates() -> list[tuple[tuple[str, ...], int]]:
    """(levers, months) from the fewest steps up, then the soonest, then the levers' order.

    Levers are taken in the first month, so every candidate lives at least one month;
    that first month is not a step of its own.
    """
    sets = [combo for size in range(len(_LEVERS) + 1) for combo in itertools.combinations(_LEVERS, size)]
    pairs = [
        (combo, months)
        for combo in sets
        for months in range(1, MAX_MONTHS + 1)
        if all(months >= _LEVER_MONTHS.get(kind, 1) for kind in combo)
    ]
    return sorted(pairs, key=lambda pair: (len(pair[0]) + (pair[1] > 1), pair[1]))


# Built once: the search's order never changes.
_CANDIDATES = tuple(_candidates())
_CANDIDATE_MONTHS = np.asarray([months for _, months in _CANDIDATES], dtype="int64")
_CANDIDATE_USES = {kind: np.asarray([kind in chosen for chosen, _ in _CANDIDATES]) for kind in _LEVERS}


def _next_block(pending: deque[int], levers: dict[str, np.ndarray], unresolved: np.ndarray) -> _Block | None:
    """The next candidates' rows for the accounts still unresolved, up to :data:`_BLOCK_ROWS`."""
    parts: list[tuple[int, np.ndarray]] = []
    rows = 0
    # A set of levers is tried for up to twelve months: whom it applies to is found once.
    applies_to: dict[tuple[str, ...], np.ndarray] = {}
    while pending and rows < _BLOCK_ROWS:
        index = pending.popleft()
        chosen, _ = _CANDIDATES[index]
        if chosen not in applies_to:
            applies = unresolved.copy()
            for kind in chosen:
                applies &= ~np.isnan(levers[kind])
            applies_to[chosen] = np.flatnonzero(applies)
        where = applies_to[chosen]
        if len(where):
            parts.append((index, where))
            rows += len(where)
    if not parts:
        return None
    accounts = np.concatenate([where for _, where in parts])
    candidate = np.repeat(np.asarray([index for index, _ in parts], dtype="int64"), [len(w) for _, w in parts])
    return _Block(
        accounts=accounts,
        months=_CANDIDATE_MONTHS[candidate],
        candidate=candidate,
        taken={kind: np.where(_CANDIDATE_USES[kind][candidate], levers[kind][accounts], np.nan) for kind in _LEVERS},
    )


def _live(
    policy: Policy, block: _Block, searched: _Searched, limit: np.ndarray, score: Scorer, context: Context
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Live every row of ``block``.

    Returns the rows raised under every behaviour, each row's lowest new limit, and
    whether anything fell due in its months.
    """
    n = len(block.accounts)
    raised = np.ones(n, dtype=bool)
    limits = np.full(n, np.iinfo("int64").max, dtype="int64")
    due = np.zeros(n, dtype=bool)
    rows = np.arange(n)
    lived = behaviours(policy)
    if len(lived) > 1 and n <= _LIVED_TOGETHER_ROWS:
        # Few rows: a lived call costs more than its rows, so every behaviour is lived in
        # one. A row is raised only where each of them raises it, as when lived in turn
        # (which lives a behaviour only on the rows the ones before raised).
        frame, fell_due = _lived_together(policy, block, searched, limit, lived)
        each, new_limit = _judged(policy, block, np.tile(rows, len(lived)), frame, score, context)
        shape = (len(lived), n)
        return (
            np.flatnonzero(each.reshape(shape).all(axis=0)),
            np.asarray(new_limit).reshape(shape).min(axis=0),
            np.asarray(fell_due.reshape(shape).any(axis=0)),
        )
    for behaviour in lived:
        rows = rows[raised[rows]]
        if len(rows) == 0:
            break
        frame, fell_due = _lived_features(policy, block, rows, searched, limit, behaviour)
        due[rows] |= fell_due
        raised[rows], new_limit = _judged(policy, block, rows, frame, score, context)
        limits[rows] = np.minimum(limits[rows], new_limit)
    return np.flatnonzero(raised), limits, due


# Rows of a block up to which its behaviours are lived in one call.
_LIVED_TOGETHER_ROWS = 2_000


def _judged(
    policy: Policy, block: _Block, rows: np.ndarray, frame: pd.DataFrame, score: Scorer, context: Context
) -> tuple[np.ndarray, np.ndarray]:
    """Whether the policy raises each of ``rows`` of ``block`` at its review, lived as ``frame``; the new limits."""
    days_to_review = np.asarray(
        [
            (review_date(context.as_of, m, month_so_far=context.month_so_far) - context.as_of).days
            for m in range(MAX_MONTHS + 1)
        ]
    )
    days_on = days_to_review[block.months[rows]]
    # Deciding at the base date with the last change moved back is deciding at the review.
    shifted = (
        None
        if context.last_limit_change_on is None
        else pd.Series(
            pd.to_datetime(context.last_limit_change_on).to_numpy()[block.accounts[rows]]
            - days_on.astype("timedelta64[D]"),
            index=frame.index,
        )
    )
    pd_, points = score(frame)
    action, new_limit = policy_actions(
        policy, frame, pd_, Context(as_of=context.as_of, trigger="review", last_limit_change_on=shifted), points
    )
    return action == "increase", new_limit


def _lived_together(
    policy: Policy, block: _Block, searched: _Searched, limit: np.ndarray, lived: tuple[Behaviour, ...]
) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`_lived_features` of every row of ``block`` under each of ``lived``, one behaviour after another."""
    rows = np.arange(len(block.accounts))
    parts = [_projected(policy, block, rows, searched, limit, behaviour) for behaviour in lived]
    windows = [window for window, _, _ in parts]
    customers = [columns for _, columns, _ in parts]
    window = PanelWindow(
        account_ids=np.concatenate([w.account_ids for w in windows]),
        month=windows[0].month,
        values={name: np.concatenate([w.values[name] for w in windows]) for name in windows[0].values},
        present=np.concatenate([w.present for w in windows]),
        months_observed=np.concatenate([w.months_observed for w in windows]),
        months_since_first_row=np.concatenate([w.months_since_first_row for w in windows]),
        months_since_delinquency=np.concatenate([w.months_since_delinquency for w in windows]),
        on_time_months_since_delinquency=np.concatenate([w.on_time_months_since_delinquency for w in windows]),
    )

    def joined(name: str) -> dict[str, np.ndarray]:
        first: dict[str, np.ndarray] = getattr(customers[0], name)
        return {key: np.concatenate([getattr(c, name)[key] for c in customers]) for key in first}

    columns = CustomerColumns(
        sum(c.length for c in customers), joined("numbers"), joined("consents"), joined("dates"), joined("texts")
    )
    features = features_from_columns(window, columns, index=pd.RangeIndex(len(window)))
    return features, np.concatenate([due for _, _, due in parts])


def _lived_features(
    policy: Policy, block: _Block, rows: np.ndarray, searched: _Searched, limit: np.ndarray, behaviour: Behaviour
) -> tuple[pd.DataFrame, np.ndarray]:
    """The features at the review of each of ``rows`` of ``block``, lived as ``behaviour``.

    Also whether anything fell due in each row's months (in ``rows``' order).
    """
    window, customers, due = _projected(policy, block, rows, searched, limit, behaviour)
    return features_from_columns(window, customers, index=pd.RangeIndex(len(rows))), due


def _projected(
    policy: Policy, block: _Block, rows: np.ndarray, searched: _Searched, limit: np.ndarray, behaviour: Behaviour
) -> tuple[PanelWindow, CustomerColumns, np.ndarray]:
    """The window and customers' columns at the review of each of ``rows`` of ``block``, lived as ``behaviour``.

    Also whether anything fell due in each row's months (in ``rows``' order).
    """
    accounts = block.accounts[rows]
    plan = Plan(
        credit_limit=limit[accounts],
        repay=np.nan_to_num(block.taken["repay_at_least"][rows]).astype("int64"),
        clear_overdue=~np.isnan(block.taken["clear_overdue"][rows]),
        income_monthly=block.taken["verify_income_at_least"][rows],
        external_debt=block.taken["reduce_external_debt_to"][rows],
        no_new_applications=~np.isnan(block.taken["no_new_credit_applications"][rows]),
        on_time_elsewhere=~np.isnan(block.taken["repay_other_lenders_on_time"][rows]),
    )
    months = block.months[rows]
    window, customers = project_columns(
        searched.window.rows(accounts),
        searched.customers.rows(accounts),
        plan,
        months,
        behaviour,
        minimum_payment_bp=policy.minimum_payment_bp,
    )
    # The new window holds an account's own months newest first, in its first columns.
    due_by_month = np.nan_to_num(window.values["amount_due"]) > 0
    within = np.arange(due_by_month.shape[1])[None, :] < months[:, None]
    return window, customers, (due_by_month & within).any(axis=1)


# --- what each lever asks for -----------------------------------------------------------------


def _lever_values(policy: Policy, features: pd.DataFrame, history: History, limit: np.ndarray) -> dict[str, np.ndarray]:
    """Per lever and account, the figure the lever would use (minor units); NaN where it does not apply."""
    window = history.window
    balance = window.values["balance"][:, 0]
    major = 10 ** currency_exponent(policy.currency)
    ladder = policy.ladder
    next_rung = ladder[np.minimum(np.searchsorted(ladder, limit, side="right"), len(ladder) - 1)]
    income = _column(features, "income_verified_monthly")
    external = np.nan_to_num(_column(features, "external_debt"))
    values: dict[str, np.ndarray] = {
        "clear_overdue": np.where(window.values["dpd"][:, 0] > 0, 0.0, np.nan),
        **{kind: np.where(_column(features, column) > 0, 0.0, np.nan) for kind, column in _ELSEWHERE.items()},
    }

    most = np.full(len(limit), np.inf)
    for check in _gates_on(policy, "utilisation_current"):
        assert check.value is not None
        most = np.minimum(most, [_most_balance(check, int(line)) for line in limit])
    excess = balance - most
    values["repay_at_least"] = np.where(np.isfinite(excess) & (excess > 0), excess, np.nan)

    # Affordability: income * ratio - external * rate must cover the next rung's repayment.
    ratio, line_rate, external_rate = (
        Decimal(str(x)) for x in (policy.debt_service_ratio_max, policy.line_payment_rate, policy.external_payment_rate)
    )
    needed = np.asarray(
        [
            _whole(Decimal(int(rung)) * line_rate + Decimal(int(owed)) * external_rate, ratio, major, ROUND_CEILING)
            for rung, owed in zip(next_rung, external, strict=True)
        ],
        dtype="float64",
    )
    short = np.isnan(income) | (income < needed)
    values["verify_income_at_least"] = np.where(short & (next_rung > limit), needed, np.nan)
    allowed = np.asarray(
        [
            np.nan
            if np.isnan(earned) or external_rate == 0
            else _whole(
                Decimal(int(earned)) * ratio - Decimal(int(rung)) * line_rate, external_rate, major, ROUND_FLOOR
            )
            for earned, rung in zip(income, next_rung, strict=True)
        ],
        dtype="float64",
    )
    values["reduce_external_debt_to"] = np.where(
        ~np.isnan(allowed) & (external > 0) & (allowed >= 0) & (allowed < external), allowed, np.nan
    )
    return values


def _most_balance(check: Check, limit: int) -> float:
    """The highest balance (minor units) whose share of ``limit`` passes the utilisation ``check``."""
    share = Decimal(str(check.value)) * limit
    if check.op is Operator.LE:
        return float(share.to_integral_value(rounding=ROUND_FLOOR))
    return float(share.to_integral_value(rounding=ROUND_CEILING) - 1)


def _whole(amount: Decimal, per: Decimal, major: int, rounding: str) -> float:
    """``amount / per`` in minor units, rounded to a whole major unit the way ``rounding`` says."""
    return float((amount / per / major).to_integral_value(rounding=rounding) * major)


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name in frame.columns:
        return frame[name].to_numpy(dtype="float64", copy=True)
    return np.full(len(frame), np.nan)


def _gates_on(policy: Policy, feature: str) -> list[Check]:
    checks = [*policy.gates, *(g for s in policy.segments for g in s.gates)]
    return [c for c in checks if c.feature == feature and c.op in (Operator.LE, Operator.LT)]
