"""A simulated book of credit lines: realistic event histories for demos and benchmarks.

Each customer has a latent risk in [0, 1]. Riskier customers draw more of their
line, pay late more often and sometimes miss instalments for months; safer ones pay
on or before the due date and sometimes prepay. Requests the ledger would refuse
(a drawdown while past due, say) are dropped, as a lender's front end would.
Deterministic for a given ``seed``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial

import numpy as np

from linewise.calendar import add_months, month_end
from linewise.errors import LedgerRejected
from linewise.ledger.events import DrawdownPosted, Event, LineOpened, RepaymentPosted
from linewise.ledger.model import DrawdownTerms, LineState
from linewise.ledger.posting import apply, due_amount, payoff_amount
from linewise.ledger.product import Product

__all__ = ["BookSpec", "simulate_book"]

_LIMIT_STEPS = np.array([5_000, 8_000, 10_000, 15_000, 20_000, 30_000, 50_000]) * 100


@dataclass(frozen=True)
class BookSpec:
    """How many lines, over how many months from ``start``, and the random seed."""

    lines: int
    months: int
    start: date
    seed: int


def simulate_book(spec: BookSpec, product: Product) -> Iterator[list[Event]]:
    """Yield, line by line, the events of a simulated book (already valid in order)."""
    rng = np.random.default_rng(spec.seed)
    terms = DrawdownTerms.from_product(product)
    for n in range(spec.lines):
        yield _simulate_line(n, spec, product, terms, rng)


def _simulate_line(
    n: int, spec: BookSpec, product: Product, terms: DrawdownTerms, rng: np.random.Generator
) -> list[Event]:
    account = f"L{n + 1:06d}"
    risk = float(rng.beta(1.1, 9.0))
    opened_on = spec.start + timedelta(days=int(rng.integers(0, 28)))
    step = min(len(_LIMIT_STEPS) - 1, int(rng.integers(0, len(_LIMIT_STEPS)) * (1.2 - risk)))
    opened = LineOpened(
        account_id=account,
        occurred_on=opened_on,
        idempotency_key=f"{account}-open",
        customer_id=f"C{n + 1:06d}",
        currency=product.currency,
        credit_limit=int(_LIMIT_STEPS[step]),
    )
    events: list[Event] = [opened]
    state = apply(None, opened).state
    end = month_end(add_months(spec.start, spec.months - 1))
    for month in range(spec.months):
        first = add_months(spec.start.replace(day=1), month)
        candidates = _month_candidates(account, state, first, risk, product, terms, rng)
        for on, make in sorted(candidates, key=lambda c: c[0]):
            if on > end or on < (state.last_event_on or opened_on):
                continue
            event = make(state)
            if event is None:
                continue
            try:
                state = apply(state, event).state
            except LedgerRejected:
                continue
            events.append(event)
    return events


_Maker = Callable[[LineState], Event | None]


def _month_candidates(
    account: str,
    state: LineState,
    first: date,
    risk: float,
    product: Product,
    terms: DrawdownTerms,
    rng: np.random.Generator,
) -> list[tuple[date, _Maker]]:
    out: list[tuple[date, _Maker]] = []
    last = month_end(first)
    tag = f"{account}-{first:%Y%m}"
    if rng.random() < 0.2 + 0.5 * risk and state.available_credit >= product.drawdown_min:
        share = rng.uniform(0.1, 0.4 + 0.5 * risk)
        amount = int(min(product.drawdown_max, state.available_credit * share)) // 100 * 100
        if amount >= product.drawdown_min:
            on = first + timedelta(days=int(rng.integers(0, last.day)))
            draw = DrawdownPosted(
                account_id=account,
                occurred_on=on,
                idempotency_key=f"{tag}-draw",
                amount=amount,
                term_months=int(rng.choice(product.terms_months)),
                method=product.methods[0] if rng.random() < 0.8 else product.methods[-1],
                purpose=str(rng.choice(product.purposes)),
                terms=terms,
            )
            out.append((on, partial(_given, draw)))
    due = [i for d in state.drawdowns for i in d.instalments if first <= i.due_on <= last and i.outstanding > 0]
    for k, instalment in enumerate(due):
        roll = rng.random()
        if roll < 0.5 * risk:
            continue  # missed this month; caught up later with penalty, or never
        late = int(rng.integers(4, 40)) if roll < 0.8 * risk else -int(rng.integers(0, 5))
        on = instalment.due_on + timedelta(days=late)
        upcoming = instalment.outstanding if on < instalment.due_on else 0
        out.append((on, partial(_pay_due, account, on, f"{tag}-pay-{k}", upcoming)))
    if rng.random() < 0.03 * (1 - risk):
        on = first + timedelta(days=int(rng.integers(0, last.day)))
        out.append((on, partial(_pay_off, account, on, f"{tag}-payoff")))
    return out


def _given(event: Event, _state: LineState) -> Event:
    return event


def _pay_due(account: str, on: date, key: str, upcoming: int, state: LineState) -> Event | None:
    """Pay everything due by ``on`` and, paying early, the upcoming instalment too."""
    amount = due_amount(state, on) + upcoming
    owed = payoff_amount(state, on)
    if owed == 0:
        return None
    return RepaymentPosted(account_id=account, occurred_on=on, idempotency_key=key, amount=min(amount, owed))


def _pay_off(account: str, on: date, key: str, state: LineState) -> Event | None:
    owed = payoff_amount(state, on)
    if owed == 0:
        return None
    return RepaymentPosted(account_id=account, occurred_on=on, idempotency_key=key, amount=owed)
