"""A simulation in figures: what ``summary.json`` holds and the command prints.

Money is in minor units of the book's currency, rounded to the unit: the figures are
expectations. Each expected figure is ``{"value", "low", "high"}``, its interval from
the PD's uncertainty (see :class:`linewise.simulate.economics.Priced`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from linewise.simulate.economics import FIGURES, Priced
from linewise.simulate.run import Simulation, StrategyRun, increased, mask_of
from linewise.strategy.evaluate import ACTIONS

__all__ = ["simulation_summary"]


def simulation_summary(simulation: Simulation, *, backtest: bool = False) -> dict[str, Any]:
    """The simulation as summary.json holds it: per strategy, per segment and grade, the swap set.

    ``backtest`` adds each strategy's realised default rates, where the outcomes are known.
    """
    champion = simulation.runs[0]
    return {
        "as_of": simulation.as_of.isoformat(),
        "currency": simulation.currency,
        "source": simulation.source,
        "accounts": len(champion.decisions),
        "assumptions": simulation.assumptions.model_dump(mode="json")
        | {"pd_horizon_months": simulation.pd_horizon_months},
        "ccf": simulation.ccf.as_dict(),
        "revolving_share": simulation.revolving.as_dict(),
        "status_quo": _money_figures(simulation.status_quo.total()),
        "strategies": [_strategy(simulation, run, champion, backtest=backtest) for run in simulation.runs],
    }


def _strategy(simulation: Simulation, run: StrategyRun, champion: StrategyRun, *, backtest: bool) -> dict[str, Any]:
    decisions = run.decisions
    out: dict[str, Any] = {
        "label": run.label,
        "strategy": run.decider.strategy.ref,
        "model": run.decider.model_ref,
        **_block(decisions, run.priced, slice(None)),
        "vs_status_quo": _money_figures(run.priced.minus(simulation.status_quo).total()),
        "by_segment": _grouped(decisions, run.priced, "segment"),
        "by_grade": _grouped(decisions, run.priced, "risk_grade"),
    }
    if decisions["arm"].nunique() > 1:
        out["by_arm"] = _grouped(decisions, run.priced, "arm")
    if run is not champion:
        out["swap"] = _swap(simulation, run, champion)
    if backtest and simulation.realised is not None:
        out["backtest"] = _backtest(decisions, simulation.realised, champion.decisions if run is not champion else None)
    return out


def _block(decisions: pd.DataFrame, priced: Priced, rows: Any) -> dict[str, Any]:
    """Accounts by action, limit added and removed, and the expected figures of ``rows``."""
    chosen = decisions.iloc[rows] if not isinstance(rows, slice) else decisions
    change = (chosen["new_limit"] - chosen["current_limit"]).to_numpy(dtype=np.int64)
    actions = chosen["action"].value_counts()
    mask = None if isinstance(rows, slice) else rows
    return {
        "accounts": len(chosen),
        "actions": {action: int(actions.get(action, 0)) for action in ACTIONS},
        "limit_added": int(change[change > 0].sum()),
        "limit_removed": int(-change[change < 0].sum()),
        **_money_figures(priced.total(mask)),
    }


def _grouped(decisions: pd.DataFrame, priced: Priced, column: str) -> dict[str, Any]:
    keys = decisions[column].astype(str).to_numpy()
    return {str(key): _block(decisions, priced, keys == key) for key in sorted(set(keys))}


def _money_figures(totals: dict[str, dict[str, float]]) -> dict[str, dict[str, int]]:
    return {figure: {end: round(amount) for end, amount in totals[figure].items()} for figure in FIGURES}


def _swap(simulation: Simulation, run: StrategyRun, champion: StrategyRun) -> dict[str, Any]:
    """Who is raised under one strategy and not the other, and what those lines carry."""
    mine, theirs = increased(run.decisions), increased(champion.decisions)
    theirs = theirs.reindex(mine.index, fill_value=False)
    only_here = mine.index[mine & ~theirs]
    only_champion = mine.index[theirs & ~mine]
    return {
        "raised_here_only": _swap_side(simulation, run, only_here),
        "raised_by_champion_only": _swap_side(simulation, champion, only_champion),
    }


def _swap_side(simulation: Simulation, run: StrategyRun, accounts: pd.Index) -> dict[str, Any]:
    mask = mask_of(run.decisions, accounts)
    side: dict[str, Any] = {
        "accounts": int(mask.sum()),
        "mean_pd": round(float(run.decisions.loc[mask, "pd"].mean()), 6) if mask.any() else None,
        "limit_added": int((run.decisions.loc[mask, "new_limit"] - run.decisions.loc[mask, "current_limit"]).sum()),
        "expected_loss": _money_figures(run.priced.total(mask))["expected_loss"],
    }
    if simulation.realised is not None:
        side["realised"] = _rate(simulation.realised.reindex(accounts).dropna().astype(bool))
    return side


def _backtest(decisions: pd.DataFrame, realised: pd.Series, champion: pd.DataFrame | None) -> dict[str, Any]:
    """Realised default rates by action (and, for a challenger, by the champion's action and its own)."""
    went_bad = realised.reindex(decisions["account_id"]).to_numpy()
    known = ~pd.isna(went_bad)
    bad = pd.Series(went_bad[known].astype(bool))
    actions = decisions["action"].to_numpy()[known]
    out: dict[str, Any] = {
        "accounts_with_outcome": int(known.sum()),
        "by_action": {action: _rate(bad[actions == action]) for action in ACTIONS},
    }
    if champion is not None:
        theirs = champion.set_index("account_id")["action"].reindex(decisions["account_id"]).to_numpy()[known]
        out["by_champion_action"] = {
            f"{before}->{after}": _rate(bad[(theirs == before) & (actions == after)])
            for before in ACTIONS
            for after in ACTIONS
            if ((theirs == before) & (actions == after)).any()
        }
    return out


def _rate(bad: pd.Series) -> dict[str, Any]:
    """Accounts, defaults, the default rate and its 95% Wilson interval."""
    n, k = len(bad), int(bad.sum())
    if n == 0:
        return {"accounts": 0, "defaults": 0, "rate": None, "low": None, "high": None}
    interval = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return {
        "accounts": n,
        "defaults": k,
        "rate": round(k / n, 6),
        "low": round(float(interval.low), 6),
        "high": round(float(interval.high), 6),
    }
