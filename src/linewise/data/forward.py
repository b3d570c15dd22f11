"""A synthetic portfolio played on past its last month, given someone's decisions.

The known-truth world the strategy lab is checked against: :func:`play_forward`
takes the decisions made on a :func:`~linewise.data.synthetic.synthesize` portfolio
(a new limit per account, and which lines are frozen), and carries the generator's
own behaviour on for ``months`` more months: each month the customers pay, miss and
draw as the module docstring of :mod:`linewise.data.synthetic` states (a frozen line
draws nothing, and the generator's own lender no longer moves limits), then each
line still alive defaults with the stated monthly hazard of its state that month.

What a lender would book is returned per account: whether and when it defaulted,
the loss (the balance at default less the :data:`RECOVERY` share the lender gets
back), the interest it charged while the line was alive, and the balance it funded.
Nothing here is read by the lab: it only predicts, and the two are compared.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from linewise.data._synthetic_behaviour import Accounts, Behaviour, _State, _step
from linewise.data.synthetic import SynthSpec, draw_world, monthly_hazard
from linewise.errors import InputError

__all__ = ["RECOVERY", "play_forward"]

# The share of a defaulted balance the world's lender recovers (its true LGD is 0.8).
RECOVERY = 0.2
MONTHS_MAX = 60


def play_forward(spec: SynthSpec, decisions: pd.DataFrame, months: int, *, seed: int = 0) -> pd.DataFrame:
    """What happens to ``spec``'s portfolio over ``months`` months after ``decisions``.

    ``decisions`` holds ``account_id``, ``new_limit`` (minor units) and ``action``
    (a ``freeze`` stops drawing) for some or all accounts; the others keep their
    limits. One row per account of the portfolio: ``defaulted``, ``default_month``
    (1 to ``months``, 0 when it did not), ``loss``, ``interest`` and
    ``funded_balance`` (the sum of its month-end balances while alive), in minor
    units. The same spec, decisions and ``seed`` give the same rows.
    """
    if isinstance(months, bool) or not 1 <= months <= MONTHS_MAX:
        raise InputError.for_field(
            "months_out_of_range", where="play_forward", field="months", rule=f"1 to {MONTHS_MAX}", value=months
        )
    world = draw_world(spec)
    behaviour, accounts = world.behaviour, world.accounts
    ids = world.customers["account_id"]
    decided = decisions.set_index("account_id").reindex(ids)
    unknown = sorted(set(decisions["account_id"]) - set(ids))
    if unknown:
        raise InputError.for_field(
            "account_not_found",
            where="play_forward",
            field="account_id",
            rule="an account of the spec",
            value=unknown[:5],
        )
    last_limit = behaviour.credit_limit[:, -1].astype(np.int64)
    limit = decided["new_limit"].fillna(pd.Series(last_limit, index=ids)).to_numpy(dtype=np.int64)
    frozen = (decided["action"] == "freeze").to_numpy()
    arrears = np.where(
        behaviour.on_time[:, -1] == 0, behaviour.amount_due[:, -1] - behaviour.amount_paid[:, -1], 0
    ).astype(np.int64)
    state = _State(
        limit=limit,
        balance=behaviour.balance[:, -1].astype(np.int64),
        arrears=arrears,
        dpd=behaviour.dpd[:, -1].astype(np.int64),
    )
    future = pd.date_range(start=world.month_ends[-1] + pd.offsets.MonthEnd(1), periods=months, freq="ME")
    ahead = Accounts(
        risk=accounts.risk,
        first_index=accounts.first_index - len(world.month_ends),
        tenure_at_start=accounts.tenure_at_start,
        due_day=accounts.due_day,
        limit=limit,
        balance=state.balance,
        calendar_months=future.month.to_numpy().astype(np.int64),
        days_in_month=future.day.to_numpy().astype(np.int64),
        major=accounts.major,
        limit_min=accounts.limit_min,
        limit_max=accounts.limit_max,
    )
    n = len(ids)
    out = Behaviour(**{name: np.zeros((n, months), getattr(behaviour, name).dtype) for name in _BEHAVIOUR})
    rng = np.random.default_rng([spec.seed, seed, 1])
    alive = np.ones(n, dtype=bool)
    default_month = np.zeros(n, dtype=np.int64)
    loss = np.zeros(n, dtype=np.int64)
    interest = np.zeros(n, dtype=np.int64)
    funded = np.zeros(n, dtype=np.int64)
    opening = np.zeros(n, dtype=bool)
    for t in range(months):
        previous = state.balance
        _step(ahead, state, t, opening, rng, out, lender=False, frozen=frozen)
        charged = state.balance - (previous - out.amount_paid[:, t]) - out.drawn_amount[:, t]
        interest += np.where(alive, charged, 0)
        funded += np.where(alive, state.balance, 0)
        hazard = monthly_hazard(
            world.truth, {"credit_limit": state.limit, "balance": state.balance, "dpd": state.dpd}, world.major
        )
        defaults = alive & (rng.random(n) < hazard)
        loss += np.where(defaults, np.round(np.maximum(state.balance, 0) * (1 - RECOVERY)).astype(np.int64), 0)
        default_month[defaults] = t + 1
        alive &= ~defaults
    return pd.DataFrame(
        {
            "account_id": ids.to_numpy(),
            "defaulted": default_month > 0,
            "default_month": default_month,
            "loss": loss,
            "interest": interest,
            "funded_balance": funded,
        }
    )


_BEHAVIOUR = ("credit_limit", "balance", "amount_due", "amount_paid", "drawn_amount", "dpd", "on_time")
