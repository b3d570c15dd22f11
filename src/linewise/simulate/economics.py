"""What a set of decisions is expected to earn and lose, account by account.

Each line is played forward month by month over the horizon, in expectation: its
balance follows the response to a raise (:mod:`.assumptions`), stays where it is when
held, and pays down when the line may not draw (frozen, or cut below its balance: each
month it carries over the share of its balance it has carried before, its own
``run_off``, and repays the rest), it may
default each month with the hazard its PD implies, and while it lives it pays
interest and fees on its balance and costs the funding of it. Exposure at default is
the balance plus the CCF's share of what is still available to draw (nothing is
available on a frozen line). Amounts are minor units, as floats: they are
expectations, never posted to a ledger.

Pure: arrays in, arrays out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit, logit
from scipy.stats import norm

from linewise.simulate.assumptions import Assumptions

__all__ = ["FIGURES", "Lines", "Priced", "price", "price_with_interval", "response_factor"]

# The per-account figures :func:`price` gives, each summed to a portfolio total.
FIGURES = ("expected_loss", "expected_revenue", "cost_of_funds", "expected_profit", "day_one_provision")


@dataclass(frozen=True)
class Lines:
    """The lines priced: limits before and after the decision, balance, PD, freeze.

    Arrays of one length, one entry per account. ``pd_`` (the PD) covers ``pd_horizon_months``;
    ``response`` is each account's factor on the balance-response path; ``run_off`` the
    share of its balance it carries over a month (how fast it pays down when it may not
    draw: a line that pays little carries nearly all).
    """

    current_limit: np.ndarray
    new_limit: np.ndarray
    balance: np.ndarray
    pd_: np.ndarray
    frozen: np.ndarray
    response: np.ndarray
    run_off: np.ndarray

    @classmethod
    def from_decisions(
        cls,
        decisions: pd.DataFrame,
        balance: pd.Series,
        response: pd.Series,
        run_off: pd.Series,
        *,
        status_quo: bool = False,
    ) -> Lines:
        """The decided lines (``status_quo``: as if every line were left as it is)."""
        accounts = decisions["account_id"]
        current = decisions["current_limit"].to_numpy(dtype=np.float64)
        return cls(
            current_limit=current,
            new_limit=current if status_quo else decisions["new_limit"].to_numpy(dtype=np.float64),
            balance=balance.reindex(accounts).fillna(0).clip(lower=0).to_numpy(dtype=np.float64),
            pd_=decisions["pd"].to_numpy(dtype=np.float64),
            frozen=np.zeros(len(decisions), dtype=bool) if status_quo else (decisions["action"] == "freeze").to_numpy(),
            response=response.reindex(accounts).fillna(1.0).to_numpy(dtype=np.float64),
            run_off=run_off.reindex(accounts).fillna(1.0).to_numpy(dtype=np.float64),
        )


def response_factor(pd_: pd.Series, assumptions: Assumptions) -> pd.Series:
    """Each account's factor on the balance-response path, geometric in the rank of its PD."""
    safest, riskiest = assumptions.response_by_risk
    rank = pd_.rank(method="average", pct=True).to_numpy()
    spread = rank.max() - rank.min() if len(rank) else 0.0
    rank = (rank - rank.min()) / spread if spread > 0 else np.full(len(rank), 0.5)
    return pd.Series(safest * (riskiest / safest) ** rank, index=pd_.index, name="response")


def price(
    lines: Lines,
    assumptions: Assumptions,
    *,
    ccf: float,
    pd_horizon_months: int,
    revolving: float = 1.0,
    pd_shift: float = 0.0,
) -> dict[str, np.ndarray]:
    """Per account: the :data:`FIGURES` and what they are made of.

    Also the chance of default within the horizon, the loss's variance and the
    average balance expected over the horizon.

    ``revolving`` is the share of a balance carried over each month, which bears
    interest (what customers who pay in full draw costs funding but earns none);
    ``pd_shift`` moves every PD by that much in log-odds (the intervals price the
    lines at both ends of the PD's uncertainty).
    """
    pd_ = np.clip(lines.pd_, 1e-9, 1 - 1e-9)
    if pd_shift:
        pd_ = expit(logit(pd_) + pd_shift)
    monthly_survival = (1.0 - pd_) ** (1.0 / pd_horizon_months)
    hazard = 1.0 - monthly_survival
    added = np.maximum(lines.new_limit - lines.current_limit, 0.0)
    path_months = np.array([0, *assumptions.response_months], dtype=np.float64)
    path_share = np.array([0.0, *assumptions.response_share])
    loss = np.zeros(len(pd_))
    revenue = np.zeros(len(pd_))
    funding = np.zeros(len(pd_))
    drawn = np.zeros(len(pd_))  # the balance expected month by month, while the line lives
    alive = np.ones(len(pd_))  # the chance the line has not defaulted before month t
    earning = (revolving * assumptions.apr + assumptions.fee_rate) / 12
    for month in range(1, assumptions.horizon_months + 1):
        share = float(np.interp(month, path_months, path_share))
        # A line that may not draw (frozen, or cut below its balance) pays down: each
        # month it carries over only the revolving share of what it owed, and a cut
        # line stops paying down once it is back under its new limit.
        run_off = lines.balance * lines.run_off**month
        balance = np.where(
            added > 0,
            np.minimum(lines.balance + lines.response * share * added, lines.new_limit),
            np.where(
                lines.frozen,
                run_off,
                np.where(lines.new_limit < lines.balance, np.maximum(run_off, lines.new_limit), lines.balance),
            ),
        )
        available = np.where(lines.frozen, 0.0, np.maximum(lines.new_limit - balance, 0.0))
        exposure = balance + ccf * available
        loss += alive * hazard * assumptions.lgd * exposure
        funding += alive * balance * assumptions.cost_of_funds / 12
        drawn += alive * balance
        alive = alive * monthly_survival
        revenue += alive * balance * earning
    defaulted = 1.0 - monthly_survival**assumptions.horizon_months
    # A line either defaults within the horizon or not: the loss it brings has the
    # variance of a Bernoulli draw scaled by its loss given a default.
    loss_variance = np.divide(loss**2 * (1 - defaulted), defaulted, out=np.zeros_like(loss), where=defaulted > 0)
    pd_year = 1.0 - monthly_survival**12
    available_before = np.maximum(lines.current_limit - lines.balance, 0.0)
    available_after = np.where(lines.frozen, 0.0, np.maximum(lines.new_limit - lines.balance, 0.0))
    return {
        "expected_loss": loss,
        "expected_revenue": revenue,
        "cost_of_funds": funding,
        "expected_profit": revenue - funding - loss,
        # A year's expected loss on the credit made available (or withdrawn) today: what
        # the provision moves by on the day the decision takes effect.
        "day_one_provision": pd_year * assumptions.lgd * ccf * (available_after - available_before),
        "default_within_horizon": defaulted,
        "average_balance": drawn / assumptions.horizon_months,
        "loss_variance": loss_variance,
    }


@dataclass(frozen=True)
class Priced:
    """Lines priced at their PDs and at both ends of the PD's uncertainty; totals with intervals."""

    mid: dict[str, np.ndarray]
    riskier: dict[str, np.ndarray]
    safer: dict[str, np.ndarray]
    z: float
    # A difference of two pricings (:meth:`minus`): its loss may be below zero.
    difference: bool = False

    def total(self, mask: np.ndarray | None = None) -> dict[str, dict[str, float]]:
        """Each of :data:`FIGURES` summed over the lines (those in ``mask``): value, low, high.

        The interval is the range of the sum as the PD's level moves within its
        uncertainty (priced at both ends and the middle), with the loss and the profit
        widened by the chance of which lines default (a normal approximation of the sum
        of their Bernoulli draws).
        """
        chosen = slice(None) if mask is None else mask
        chance = self.z * float(np.sqrt(self.mid["loss_variance"][chosen].sum()))
        out: dict[str, dict[str, float]] = {}
        for figure in FIGURES:
            # A figure of lines some raised and some frozen (a provision taken and one
            # released) need not move one way with the PD: the middle counts too.
            value = float(self.mid[figure][chosen].sum())
            seen = (float(self.riskier[figure][chosen].sum()), value, float(self.safer[figure][chosen].sum()))
            low, high = min(seen), max(seen)
            if figure == "expected_loss":
                low, high = (low - chance if self.difference else max(low - chance, 0.0)), high + chance
            elif figure == "expected_profit":
                low, high = low - chance, high + chance
            out[figure] = {"value": value, "low": low, "high": high}
        return out

    def minus(self, other: Priced) -> Priced:
        """What these lines earn and lose beyond ``other`` (the same accounts, in the same order).

        The same account defaults or not under both, so the loss of the difference
        varies with the difference of the two exposures.
        """

        def difference(mine: dict[str, np.ndarray], theirs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
            out = {figure: mine[figure] - theirs[figure] for figure in FIGURES}
            out["loss_variance"] = (np.sqrt(mine["loss_variance"]) - np.sqrt(theirs["loss_variance"])) ** 2
            return out

        return Priced(
            mid=difference(self.mid, other.mid),
            riskier=difference(self.riskier, other.riskier),
            safer=difference(self.safer, other.safer),
            z=self.z,
            difference=True,
        )


def price_with_interval(
    lines: Lines, assumptions: Assumptions, *, ccf: float, pd_horizon_months: int, revolving: float = 1.0
) -> Priced:
    """:func:`price` at the PDs and with every PD moved to each end of its uncertainty.

    The ends are ``pd_log_odds_sd`` in log-odds times the normal quantile of the
    assumptions' coverage.
    """
    z = float(norm.ppf(0.5 + assumptions.interval / 2))
    shift = z * assumptions.pd_log_odds_sd

    def at(delta: float) -> dict[str, np.ndarray]:
        return price(
            lines, assumptions, ccf=ccf, pd_horizon_months=pd_horizon_months, revolving=revolving, pd_shift=delta
        )

    return Priced(mid=at(0.0), riskier=at(shift), safer=at(-shift), z=z)
