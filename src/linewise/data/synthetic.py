"""A synthetic portfolio whose data-generating process is known, so models can be checked.

``synthesize(SynthSpec(accounts, months, seed))`` draws every value from
``numpy.random.default_rng(seed)`` and the three generators it spawns (customers,
months, outcomes): the same spec gives identical frames. Nothing reads the clock, a
file or a global generator. Amounts are drawn in major units of a
CNY-sized economy, rounded as stated, and stored as integer minor units
(``x 10**exponent`` of the currency). Below, ``N`` is a standard normal draw (a fresh
one per use), ``U`` a uniform on [0, 1), ``s(x) = 1 / (1 + exp(-x))``, and ``z`` the
customer's latent risk.

Customers (one account per customer)
------------------------------------
- ``z ~ N``: the one latent risk that drives everything below; reported as
  ``outcomes.latent_risk``.
- Opening: with probability 0.15 (when ``months >= 2``) the line opens in window
  month ``k ~ U{1..months-1}`` and its panel starts there; otherwise it opened
  ``1 + floor(Exp(mean 30))`` months (at most 120) before the first window month.
  ``opened_on`` is day ``d ~ U{1..28}`` of that month; ``d`` is also the due day.
- True income ``I = clip(round(9000 exp(-0.35 z + 0.45 N)), 2000, 200000)``.
- Consent: income 0.85, bureau 0.92, assets 0.60, independent of ``z`` (missingness
  carries no signal). Without consent, every value of that source is missing.
- Income, with consent: verified with probability ``s(0.4 - 0.5 z)``: then
  ``income_monthly = I``, ``income_source`` is ``income_proof`` (0.6) or
  ``bank_statement``, and ``income_verified_on`` is uniform over the days from
  ``max(opened_on, last_month - 729 days)`` to ``last_month``. Otherwise the
  customer's word: ``income_monthly = round100(I exp(0.15 + 0.35 N))`` (inflated
  about 16% at the median, and noisy), ``income_source = "declared"``, no date.
- ``assets``: 0 with probability ``s(-1.2 + 0.5 z)``, else
  ``round100(I exp(1.5 - 0.4 z + N))``.
- Bureau: ``bureau_enquiries_6m ~ Poisson(exp(0.3 + 0.5 z))``; ``external_debt``
  is 0 with probability ``1 - s(0.2 + 0.6 z)``, else ``round(I exp(1.0 + 0.5 z + 0.8 N))``;
  ``external_dpd_max_12m`` is 0 with probability ``1 - s(-2.8 + z)``, else
  ``30 min(1 + Poisson(exp(-0.5 + 0.4 z)), 6)``; ``bureau_score =
  round(clip(650 - 60 z + 35 N, 300, 900))``. The hazard uses the true external debt
  even where the bureau is not consented (it exists; the lender cannot see it).
- ``age = clip(round(36 + 10 N), 18, 70)``, independent of ``z``: a disparity by age
  in a model's output is the model's doing. No other protected attribute is emitted.
- First limit ``L0 = clip(round500(2 J exp(-0.2 z + 0.25 N)), 1000, 200000)`` where
  ``J`` is ``income_monthly`` or 8000 without income consent. Accounts open before
  the window enter it with balance ``round(L0 s(-0.6 + 0.7 z + 0.8 N))``, current.

Each month (panel rows, oldest first; ``B`` balance, ``A`` arrears, ``D`` dpd, ``L``
limit, all from the previous month end; an account opened in the window starts
at ``B = A = D = 0``, ``L = L0``)
-------------------------------------------------------------------------------------
Amounts here are minor units; the constants 50, 1000 and 200000 are major units.

- ``amount_due = min(B, A + max(ceil(0.10 (B - A)), 50))`` when ``B > 0``, else 0
  (nothing fell due: ``on_time`` missing, ``dpd`` 0).
- Missed with probability ``s(-3.7 + 0.9 z + 2.0 [D > 0] + 0.8 u + m(month))``,
  ``u = clip(B / L, 0, 1.5)``; a missed month pays ``floor((0.1 + 0.8 U) due)``
  (at most ``due - 1``) with probability 0.3, else nothing. Otherwise the customer
  pays the whole balance with probability ``s(-0.3 - 0.8 z)``, else
  ``due + floor(0.5 U (B - due))``.
- ``on_time`` = paid >= due. When paid < due, ``dpd = D + days in month`` if ``D > 0``,
  else the days from the due day to month end; when paid >= due, ``dpd = 0`` and
  the arrears ``A = due - paid`` are cleared. So ``on_time`` is False exactly when
  ``dpd > 0``.
- Interest ``0.015 (B - paid)`` rounded half up to the minor unit (18% a year on
  the carried balance).
- Limit: at ``dpd >= 60``, half the time cut to ``clip(ceil100(B - paid), 1000, L)``;
  current accounts of at least 6 months' tenure are raised with probability 0.01 to
  ``min(round500(L (1.1 + 0.4 U)), 200000)``. Otherwise unchanged.
- Drawing, only when ``dpd = 0``: with probability ``s(0.5 z + 1.0 [opening month]
  + w(month))``, ``drawn = floor1(s(-1.0 + 0.6 z + w(month) + 0.7 N)
  max(L - (B - paid), 0))``.
- ``balance = B - paid + interest + drawn``.
- Seasonality (logits by calendar month): spending ``w`` = Jan 0.30, Feb 0.40 (Chinese
  New Year), Nov 0.35 (Double Eleven), Dec 0.10; missed payments ``m`` = Feb 0.10,
  Mar 0.25, Dec 0.20; other months 0.

Outcome (as of the last panel month, over ``horizon_months = H``)
-----------------------------------------------------------------
Monthly hazard, from the last row of the account::

    h = s(-6.35 + 0.9 z + 0.7 b + 1.0 u + 0.5 ln(1 + dti) + 0.3 (1 - v))

with ``b = min(ceil(dpd / 30), 3)``, ``u = clip(balance / credit_limit, 0, 1.5)``,
``dti = (balance + external_debt) / (12 I)`` (true values, major units) and ``v`` = 1
if the income is verified. ``true_pd = 1 - (1 - h)**H`` and ``default ~
Bernoulli(true_pd)``; about 8% of accounts default over 12 months.

Rounding: in the customer table ``round`` is to the major unit, ``round100`` /
``round500`` to 100 / 500 major units; in the months ``ceil`` and ``floor`` are to
the minor unit, ``ceil100`` up to 100 major units, ``floor1`` down to the major unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from linewise.data._synthetic_behaviour import (
    Accounts,
    Behaviour,
    id_strings,
    logistic,
    panel_frame,
    simulate_behaviour,
)
from linewise.data.portfolio import Portfolio
from linewise.errors import InputError
from linewise.money import currency_exponent

__all__ = [
    "HAZARD",
    "SYNTHETIC_ATTRIBUTION",
    "Hazard",
    "SynthSpec",
    "World",
    "draw_world",
    "monthly_hazard",
    "synthesize",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

SYNTHETIC_ATTRIBUTION = (
    "Synthetic portfolio drawn by linewise.data.synthetic; its data-generating "
    "process is documented in that module. Not real customers."
)

# Limits, and why: 60 months keeps dpd far inside the schema's 3650 days; the panel
# takes about 0.3 GB of peak memory per million rows, so 50 million is about 15 GB.
ACCOUNTS_MAX = 10_000_000
MONTHS_MAX = 60
PANEL_ROWS_MAX = 50_000_000
HORIZON_MAX = 60

OPENS_IN_WINDOW = 0.15
TENURE_MEAN_MONTHS = 30.0
TENURE_MAX_MONTHS = 120
CONSENT = {"income": 0.85, "bureau": 0.92, "assets": 0.60}
LIMIT_MIN, LIMIT_MAX = 1_000, 200_000
INCOME_WITHOUT_CONSENT = 8_000


@dataclass(frozen=True)
class Hazard:
    """Coefficients of the monthly default hazard stated in the module docstring."""

    intercept: float = -6.35
    risk: float = 0.9
    dpd_bucket: float = 0.7
    utilisation: float = 1.0
    log_debt_to_income: float = 0.5
    unverified_income: float = 0.3


HAZARD = Hazard()


@dataclass(frozen=True)
class SynthSpec:
    """What to generate: ``accounts`` lines over ``months`` month ends to ``last_month``.

    Raises :class:`~linewise.errors.InputError` naming the field out of range.
    """

    accounts: int
    months: int
    seed: int
    last_month: date = date(2025, 12, 31)
    currency: str = "CNY"
    horizon_months: int = 12

    def __post_init__(self) -> None:
        _check_range("accounts_out_of_range", "accounts", self.accounts, 1, ACCOUNTS_MAX)
        _check_range("months_out_of_range", "months", self.months, 1, MONTHS_MAX)
        _check_range("horizon_months_out_of_range", "horizon_months", self.horizon_months, 1, HORIZON_MAX)
        _check_range("seed_out_of_range", "seed", self.seed, 0, 2**63 - 1)
        if self.accounts * self.months > PANEL_ROWS_MAX:
            raise InputError.for_field(
                "panel_rows_out_of_range",
                where="SynthSpec",
                field="accounts * months",
                rule=f"at most {PANEL_ROWS_MAX:,}",
                value=self.accounts * self.months,
            )
        last_month: object = self.last_month
        if not isinstance(last_month, date) or not pd.Timestamp(last_month).is_month_end:
            raise InputError.for_field(
                "last_month_not_a_month_end",
                where="SynthSpec",
                field="last_month",
                rule="the last day of a month",
                value=str(self.last_month),
            )
        currency_exponent(self.currency)


def _check_range(code: str, field: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InputError.for_field(
            code, where="SynthSpec", field=field, rule=f"a whole number from {low:,} to {high:,}", value=value
        )


@dataclass(frozen=True)
class _Truth:
    """What the generator knows and the customer table does not show (major units)."""

    risk: FloatArray
    income: IntArray
    external_debt: IntArray
    is_verified: BoolArray


def synthesize(spec: SynthSpec) -> Portfolio:
    """A validated synthetic portfolio drawn as the module docstring states.

    ``outcomes`` carries, beyond its schema, ``true_pd`` (the probability the default
    was drawn with) and ``latent_risk`` (``z``).

    Examples
    --------
    >>> portfolio = synthesize(SynthSpec(accounts=100, months=6, seed=1))
    >>> portfolio.n_accounts, len(portfolio.months)
    (100, 6)
    """
    world = draw_world(spec)
    customers, truth, behaviour, month_ends = world.customers, world.truth, world.behaviour, world.month_ends
    last = {name: getattr(behaviour, name)[:, -1].astype(np.int64) for name in ("credit_limit", "balance", "dpd")}
    probability = _true_pd(truth, last, world.major, spec.horizon_months)
    outcome_rng = world.outcome_rng
    outcomes = pd.DataFrame(
        {
            "account_id": customers["account_id"],
            "as_of": month_ends[-1],
            "horizon_months": spec.horizon_months,
            "default": outcome_rng.random(spec.accounts) < probability,
            "true_pd": probability,
            "latent_risk": truth.risk,
        }
    )
    panel = panel_frame(behaviour, world.accounts.first_index, _id_chars("S", spec.accounts), month_ends)
    del behaviour, world
    return Portfolio.from_frames(
        panel, customers, outcomes, currency=spec.currency, source="synthetic", attribution=SYNTHETIC_ATTRIBUTION
    )


@dataclass(frozen=True)
class World:
    """Everything the generator drew for a spec: the customer table, the hidden truth, the months.

    ``accounts`` and ``behaviour`` are the month loop's input and output, in the order
    of ``customers``; ``outcome_rng`` is the generator the outcomes are drawn with.
    """

    customers: pd.DataFrame
    truth: _Truth
    accounts: Accounts
    behaviour: Behaviour
    month_ends: pd.DatetimeIndex
    major: int
    outcome_rng: np.random.Generator


def draw_world(spec: SynthSpec) -> World:
    """The customers and months of ``spec``, drawn as :func:`synthesize` draws them."""
    customer_rng, behaviour_rng, outcome_rng = np.random.default_rng(spec.seed).spawn(3)
    month_ends = pd.date_range(end=pd.Timestamp(spec.last_month).normalize(), periods=spec.months, freq="ME", unit="ns")
    major = 10 ** currency_exponent(spec.currency)
    customers, truth, accounts = _draw_customers(spec.accounts, month_ends, major, customer_rng)
    behaviour = simulate_behaviour(accounts, behaviour_rng)
    return World(customers, truth, accounts, behaviour, month_ends, major, outcome_rng)


def monthly_hazard(truth: _Truth, last: dict[str, IntArray], major: int) -> FloatArray:
    """The stated monthly default hazard of each account in the state ``last`` (limit, balance, dpd)."""
    bucket = np.minimum(-(-last["dpd"] // 30), 3)
    utilisation = np.clip(last["balance"] / last["credit_limit"], 0.0, 1.5)
    debt = np.maximum(last["balance"], 0) / major + truth.external_debt
    logit = (
        HAZARD.intercept
        + HAZARD.risk * truth.risk
        + HAZARD.dpd_bucket * bucket
        + HAZARD.utilisation * utilisation
        + HAZARD.log_debt_to_income * np.log1p(debt / (12.0 * truth.income))
        + HAZARD.unverified_income * ~truth.is_verified
    )
    hazard: FloatArray = logistic(logit)
    return hazard


def _true_pd(
    truth: _Truth,
    last: dict[str, IntArray],
    major: int,
    horizon_months: int,
) -> FloatArray:
    """The probability of default over the horizon, from the stated hazard held constant."""
    probability: FloatArray = 1.0 - (1.0 - monthly_hazard(truth, last, major)) ** horizon_months
    return probability


def _id_chars(prefix: str, n: int) -> npt.NDArray[np.uint8]:
    """``prefix`` then the numbers 1..n zero-padded to at least 7 digits, as ASCII rows."""
    width = max(7, len(str(n)))
    chars = np.empty((n, len(prefix) + width), dtype=np.uint8)
    chars[:, : len(prefix)] = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    numbers = np.arange(1, n + 1, dtype=np.int64)
    for position in range(len(prefix) + width - 1, len(prefix) - 1, -1):
        chars[:, position] = ord("0") + numbers % 10
        numbers //= 10
    return chars


def _draw_customers(
    n: int,
    month_ends: pd.DatetimeIndex,
    major: int,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, _Truth, Accounts]:
    """The customer table, the hidden truth and the accounts' starting state."""
    risk = rng.standard_normal(n)
    first_index, tenure, day, opened_on = _opening(n, month_ends, rng)
    consent = {source: rng.random(n) < share for source, share in CONSENT.items()}
    income = np.clip(np.round(9000 * np.exp(-0.35 * risk + 0.45 * rng.standard_normal(n))), 2000, 200_000).astype(
        np.int64
    )
    is_verified, income_columns = _income(income, risk, consent["income"], opened_on, month_ends[-1], major, rng)
    external_debt, bureau_columns = _bureau(income, risk, consent["bureau"], major, rng)
    customers = pd.DataFrame(
        {
            "account_id": id_strings(_id_chars("S", n)),
            "customer_id": id_strings(_id_chars("C", n)),
            "opened_on": opened_on,
            **income_columns,
            "assets": _assets(income, risk, consent["assets"], major, rng),
            **bureau_columns,
            **{f"consent_{source}": given for source, given in consent.items()},
            "age": np.clip(np.round(36 + 10 * rng.standard_normal(n)), 18, 70).astype(np.int64),
        },
        copy=False,
    )
    seen_income = customers["income_monthly"].fillna(INCOME_WITHOUT_CONSENT * major).to_numpy(dtype=np.float64) / major
    truth = _Truth(risk=risk, income=income, external_debt=external_debt, is_verified=is_verified)
    limit = np.clip(
        _round_to(2.0 * seen_income * np.exp(-0.2 * risk + 0.25 * rng.standard_normal(n)), 500), LIMIT_MIN, LIMIT_MAX
    )
    share = logistic(-0.6 + 0.7 * risk + 0.8 * rng.standard_normal(n))
    accounts = Accounts(
        risk=risk,
        first_index=first_index,
        tenure_at_start=tenure,
        due_day=day,
        limit=limit * major,
        balance=np.round(limit * share).astype(np.int64) * major,
        calendar_months=month_ends.month.to_numpy().astype(np.int64),
        days_in_month=month_ends.day.to_numpy().astype(np.int64),
        major=major,
        limit_min=LIMIT_MIN * major,
        limit_max=LIMIT_MAX * major,
    )
    return customers, truth, accounts


def _opening(
    n: int,
    month_ends: pd.DatetimeIndex,
    rng: np.random.Generator,
) -> tuple[IntArray, IntArray, IntArray, npt.NDArray[np.datetime64]]:
    """First panel month, months open before the window, opening (and due) day, date."""
    months = len(month_ends)
    in_window = (rng.random(n) < OPENS_IN_WINDOW) & (months >= 2)
    first_index = np.where(in_window, rng.integers(1, max(months, 2), n), 0)
    tenure = np.where(
        in_window,
        0,
        np.minimum(1 + np.floor(rng.exponential(TENURE_MEAN_MONTHS, n)).astype(np.int64), TENURE_MAX_MONTHS),
    )
    day = rng.integers(1, 29, n)
    first = month_ends[0]
    first_month = (first.year - 1970) * 12 + first.month - 1
    opening_month = (first_month + first_index - tenure).astype("datetime64[M]")
    opened_on = (opening_month.astype("datetime64[D]") + (day - 1)).astype("datetime64[ns]")
    return first_index, tenure, day, opened_on


def _income(
    income: IntArray,
    risk: FloatArray,
    consent: BoolArray,
    opened_on: npt.NDArray[np.datetime64],
    last: pd.Timestamp,
    major: int,
    rng: np.random.Generator,
) -> tuple[BoolArray, dict[str, object]]:
    """Verified (true) or declared (inflated, noisy) income; missing without consent."""
    n = len(income)
    is_verified = consent & (rng.random(n) < logistic(0.4 - 0.5 * risk))
    declared = _round_to(income * np.exp(0.15 + 0.35 * rng.standard_normal(n)), 100)
    source = np.where(rng.random(n) < 0.6, "income_proof", "bank_statement")
    source = np.where(is_verified, source, "declared").astype(object)
    source[~consent] = None
    last_day = np.datetime64(last.date(), "D")
    earliest = np.maximum(opened_on.astype("datetime64[D]"), last_day - 729)
    span = (last_day - earliest).astype(np.int64) + 1
    verified_on = earliest + np.floor(rng.random(n) * span).astype(np.int64)
    return is_verified, {
        "income_monthly": _nullable_int(np.where(is_verified, income, declared) * major, consent),
        "income_verified_on": np.where(is_verified, verified_on.astype("datetime64[ns]"), np.datetime64("NaT", "ns")),
        "income_source": source,
    }


def _assets(
    income: IntArray, risk: FloatArray, consent: BoolArray, major: int, rng: np.random.Generator
) -> pd.arrays.IntegerArray:
    n = len(income)
    has_none = rng.random(n) < logistic(-1.2 + 0.5 * risk)
    amount = _round_to(income * np.exp(1.5 - 0.4 * risk + rng.standard_normal(n)), 100)
    return _nullable_int(np.where(has_none, 0, amount) * major, consent)


def _bureau(
    income: IntArray, risk: FloatArray, consent: BoolArray, major: int, rng: np.random.Generator
) -> tuple[IntArray, dict[str, object]]:
    """The bureau snapshot, and the true external debt (it exists without consent too)."""
    n = len(income)
    enquiries = np.minimum(rng.poisson(np.exp(0.3 + 0.5 * risk)), 1000)
    has_debt = rng.random(n) < logistic(0.2 + 0.6 * risk)
    debt = np.where(has_debt, _round_to(income * np.exp(1.0 + 0.5 * risk + 0.8 * rng.standard_normal(n)), 1), 0)
    was_late = rng.random(n) < logistic(-2.8 + risk)
    months_late = np.minimum(1 + rng.poisson(np.exp(-0.5 + 0.4 * risk)), 6)
    score = np.round(np.clip(650 - 60 * risk + 35 * rng.standard_normal(n), 300, 900))
    return debt, {
        "bureau_enquiries_6m": _nullable_int(enquiries, consent),
        "external_debt": _nullable_int(debt * major, consent),
        "external_dpd_max_12m": _nullable_int(np.where(was_late, 30 * months_late, 0), consent),
        "bureau_score": np.where(consent, score, np.nan),
    }


def _nullable_int(values: npt.NDArray[np.integer], present: BoolArray) -> pd.arrays.IntegerArray:
    return pd.arrays.IntegerArray(values.astype(np.int64), ~present)


def _round_to(values: npt.NDArray[Any], step: int) -> IntArray:
    """``values`` rounded to a multiple of ``step`` (major units)."""
    rounded: IntArray = np.round(values / step).astype(np.int64) * step
    return rounded
