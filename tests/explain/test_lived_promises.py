"""Every promise of what would raise a line holds when the customer lives it, month by month.

The steps are carried out as real panel months on a copy of the data (see
``tests/explain/living.py``), every feature is recomputed from the panel the way a
review computes it, and the account is decided again at the promised review.
"""

from __future__ import annotations

import pandas as pd
import pytest
from tests.decide.common import AS_OF, MODEL_REF
from tests.explain.living import failures, live_and_decide, promised_months, promises_of

# Every promise on 30,000 accounts lived month by month; a GBM fitted on a synthetic book.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def uci_promises(uci_decided):
    return promises_of(uci_decided)


def _last_change(decided: pd.DataFrame) -> dict[str, pd.Timestamp]:
    cut = decided[decided["new_limit"] < decided["current_limit"]]
    return {str(a): pd.Timestamp(AS_OF) for a in cut["account_id"]}


@pytest.mark.parametrize("minimum_pct", [None, 5], ids=["paying_in_full", "paying_the_minimum"])
def test_every_promise_on_the_uci_portfolio_gives_the_promised_limit_when_lived(
    uci, uci_decided, uci_promises, uci_gbm, default_strategy, minimum_pct
):
    assert default_strategy.loaded.spec.minimum_payment_pct == 5  # the minimum counts as on time
    assert len(uci_promises) > 5_000
    again = live_and_decide(
        uci_promises,
        uci.panel,
        uci.customers,
        as_of=AS_OF,
        model=uci_gbm,
        model_ref=MODEL_REF,
        strategy=default_strategy,
        minimum_pct=minimum_pct,
        last_change=_last_change(uci_decided),
    )
    failed = failures(uci_promises, again)
    assert not failed, f"{len(failed)} of {len(uci_promises)} promises not kept:\n" + "\n".join(failed[:20])


def test_a_promise_asks_for_the_fewest_months_that_work(uci, uci_decided, uci_promises, uci_gbm, default_strategy):
    """With one month fewer of the same steps, no promise with months to wait would hold."""
    waiting = [p for p, m in zip(uci_promises, promised_months(uci_promises, AS_OF), strict=True) if m > 1]
    assert len(waiting) > 1_000
    sooner = [
        type(p)(
            p.account_id,
            p.steps,
            p.limit_now,
            p.promised_limit,
            (pd.Timestamp(p.promised_on) - pd.offsets.MonthEnd(1)).date(),
        )
        for p in waiting
    ]
    again = live_and_decide(
        sooner,
        uci.panel,
        uci.customers,
        as_of=AS_OF,
        model=uci_gbm,
        model_ref=MODEL_REF,
        strategy=default_strategy,
        minimum_pct=None,
        last_change=_last_change(uci_decided),
    )
    again_min = live_and_decide(
        sooner,
        uci.panel,
        uci.customers,
        as_of=AS_OF,
        model=uci_gbm,
        model_ref=MODEL_REF,
        strategy=default_strategy,
        minimum_pct=5,
        last_change=_last_change(uci_decided),
    )
    kept_both = (again["action"] == "increase") & (again_min.loc[again.index, "action"] == "increase")
    assert not kept_both.any(), f"{int(kept_both.sum())} promises could have been made a month sooner"


def test_repay_amounts_are_exact_to_the_minor_unit_and_one_less_breaks_the_promise(
    uci, uci_decided, uci_promises, uci_gbm, default_strategy
):
    repaying = [p for p in uci_promises if any(s.kind == "repay_at_least" for s in p.steps)]
    assert repaying
    assert not all(s.value % 100 == 1 for p in repaying for s in p.steps if s.kind == "repay_at_least")
    less = [
        type(p)(
            p.account_id,
            [type(s)(s.kind, s.value - 1) if s.kind == "repay_at_least" else s for s in p.steps],
            p.limit_now,
            p.promised_limit,
            p.promised_on,
        )
        for p in repaying
    ]
    again = live_and_decide(
        less,
        uci.panel,
        uci.customers,
        as_of=AS_OF,
        model=uci_gbm,
        model_ref=MODEL_REF,
        strategy=default_strategy,
        minimum_pct=None,
        last_change=_last_change(uci_decided),
    )
    assert (again["action"] != "increase").all()


@pytest.fixture(scope="module")
def synthetic_book():
    """A synthetic portfolio with verified incomes and bureau records, a GBM fitted on it and its decisions."""
    from linewise.data.synthetic import SynthSpec, synthesize
    from linewise.decide import decide
    from linewise.features import REGISTRY
    from linewise.features.projection import history_of
    from linewise.models.gbm import GradientBoostedModel
    from linewise.models.inputs import inputs_from_portfolio
    from linewise.strategy import default_strategy_text, read_strategy
    from linewise.strategy.compiled import compile_strategy
    from linewise.strategy.evaluate import Context

    book = synthesize(SynthSpec(accounts=4_000, months=14, seed=5, currency="TWD"))
    inputs = inputs_from_portfolio(book)
    model = GradientBoostedModel(
        monotone={n: REGISTRY[n].risk_direction.sign for n in inputs.features if n in REGISTRY}
    ).fit(inputs.features, inputs.bad)
    strategy = compile_strategy(read_strategy(default_strategy_text()))
    as_of = pd.Timestamp(book.months[-1]).date()
    decided = decide(
        inputs.features,
        model=model,
        model_ref=MODEL_REF,
        strategy=strategy,
        context=Context(as_of=as_of),
        history=history_of(book.panel, book.customers, as_of),
    )
    return book, model, strategy, as_of, decided


@pytest.mark.parametrize("minimum_pct", [None, 5], ids=["paying_in_full", "paying_the_minimum"])
def test_every_promise_on_a_synthetic_portfolio_gives_the_promised_limit_when_lived(synthetic_book, minimum_pct):
    book, model, strategy, as_of, decided = synthetic_book
    promises = promises_of(decided)
    kinds = {s.kind for p in promises for s in p.steps}
    assert len(promises) > 200
    assert {
        "verify_income_at_least",
        "repay_on_time_months",
        "reduce_external_debt_to",
        "repay_other_lenders_on_time",
    } <= kinds
    cut = decided[decided["new_limit"] < decided["current_limit"]]
    again = live_and_decide(
        promises,
        book.panel,
        book.customers,
        as_of=as_of,
        model=model,
        model_ref=MODEL_REF,
        strategy=strategy,
        minimum_pct=minimum_pct,
        last_change={str(a): pd.Timestamp(as_of) for a in cut["account_id"]},
    )
    failed = failures(promises, again)
    assert not failed, f"{len(failed)} of {len(promises)} promises not kept:\n" + "\n".join(failed[:20])


def test_an_account_searched_alone_is_promised_what_it_is_promised_in_the_whole_book(synthetic_book):
    """Alone, an account's candidates are lived under both behaviours in one call; in the book, one after the other."""
    from linewise.decide import decide
    from linewise.features.projection import history_of
    from linewise.models.inputs import inputs_from_portfolio
    from linewise.strategy.evaluate import Context

    book, model, strategy, as_of, decided = synthetic_book
    held = decided[decided["action"] != "increase"]
    with_recourse = held[held["recourse"].map(len) > 0]
    picks = pd.concat([with_recourse.iloc[:30], held[held["recourse"].map(len) == 0].iloc[:10]])
    assert len(picks) == 40
    features = inputs_from_portfolio(book).features
    history = history_of(book.panel, book.customers, as_of)
    for row in picks.index:
        alone = decide(
            features.iloc[[row]],
            model=model,
            model_ref=MODEL_REF,
            strategy=strategy,
            context=Context(as_of=as_of),
            history=history,
        )
        expected = decided.iloc[[row]].reset_index(drop=True)
        pd.testing.assert_frame_equal(alone, expected, check_dtype=False, check_exact=True)
