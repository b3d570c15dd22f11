"""What the ledger does not hold about a customer: verified income, bureau reports, assets, consent.

Each kind is append-only history, keyed by ``lines.customer_id``: a customer exists
once one of its lines does (``customer_not_found`` before). The value as of a date is
the row dated latest on or before it (the later recorded on a tie). Amounts are minor
units of a currency of one of the customer's lines; :func:`customers_as_of` pairs each
line with the income, assets and bureau debt in its own currency.

Every record function checks every value before it writes, and writes one row or
nothing; it returns the row it stored.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Date, Engine, Table, bindparam, insert, select

from linewise.errors import InputError
from linewise.inputs import check_event_date, parse_id
from linewise.ledger.store.tables import (
    customer_assets,
    customer_bureau_reports,
    customer_consents,
    customer_incomes,
    lines,
)
from linewise.ledger.store.unit_of_work import UnitOfWork, read_snapshot
from linewise.money import MAX_AMOUNT_MINOR, currency_exponent

__all__ = [
    "CONSENT_SOURCES",
    "CUSTOMER_COLUMNS",
    "EVIDENCE_MAX_LENGTH",
    "INCOME_SOURCES",
    "BureauReport",
    "check_consent_source",
    "check_evidence",
    "check_income_source",
    "customer_accounts",
    "customer_currencies",
    "customer_currency",
    "customers_as_of",
    "record_assets",
    "record_bureau_report",
    "record_consent",
    "record_income",
]

# As linewise.data.schemas.INCOME_SOURCES has them (the ledger may not import data; a
# test checks that the two agree). Only the first two count as verified for features.
INCOME_SOURCES = ("income_proof", "bank_statement", "declared")
CONSENT_SOURCES = ("income", "bureau", "assets")
# The customer table's columns (CUSTOMER_SCHEMA's, in its order) that customers_as_of gives.
CUSTOMER_COLUMNS = (
    "account_id",
    "customer_id",
    "opened_on",
    "income_monthly",
    "income_verified_on",
    "income_source",
    "assets",
    "bureau_enquiries_6m",
    "external_debt",
    "external_dpd_max_12m",
    "bureau_score",
    "consent_income",
    "consent_bureau",
    "consent_assets",
)

# A reference to the document that proves a value (a file name, a case number), never
# the document: the column is String(128), and the alphabet keeps it one token in logs.
EVIDENCE_MAX_LENGTH = 128
_EVIDENCE = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._:/#-]{{0,{EVIDENCE_MAX_LENGTH - 1}}}")
# The bounds of CUSTOMER_SCHEMA: a bureau counts, days past due and scores within them.
ENQUIRIES_MAX = 1000
DPD_MAX = 3650
SCORE_MAX = 1000.0


# --- checks -------------------------------------------------------------------------


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_amount(amount: int, field: str) -> int:
    if not _is_whole(amount) or not 0 <= amount <= MAX_AMOUNT_MINOR:
        raise InputError.for_field(
            "amount_out_of_range",
            where=field,
            field=field,
            rule=f"whole minor units from 0 to {MAX_AMOUNT_MINOR}",
            value=amount,
        )
    return amount


def _check_count(value: int, field: str, most: int) -> int:
    if not _is_whole(value) or not 0 <= value <= most:
        raise InputError.for_field(
            "number_out_of_range", where=field, field=field, rule=f"a whole number from 0 to {most}", value=value
        )
    return value


def _check_score(value: object, field: str) -> float | None:
    if value is None:
        return None
    number = float(value) if _is_whole(value) or isinstance(value, float) else math.nan  # type: ignore[arg-type]
    if not (math.isfinite(number) and 0 <= number <= SCORE_MAX):
        raise InputError.for_field(
            "number_out_of_range", where=field, field=field, rule=f"a number from 0 to {SCORE_MAX:g}", value=value
        )
    return number


def _check_choice(value: str, field: str, allowed: Sequence[str], code: str) -> str:
    if value not in allowed:
        raise InputError.for_field(code, where=field, field=field, rule=f"one of {list(allowed)}", value=value)
    return value


def check_income_source(text: str, field: str = "source") -> str:
    """``text`` if it is one of INCOME_SOURCES; else ``income_source_unknown`` naming ``field``."""
    return _check_choice(text, field, INCOME_SOURCES, "income_source_unknown")


def check_consent_source(text: str, field: str = "source") -> str:
    """``text`` if it is one of CONSENT_SOURCES; else ``consent_source_unknown`` naming ``field``."""
    return _check_choice(text, field, CONSENT_SOURCES, "consent_source_unknown")


def check_evidence(text: str, field: str = "evidence") -> str:
    """``text`` if it is an evidence reference; else ``evidence_malformed`` naming ``field``."""
    return _check_evidence(text, field)


def _check_evidence(text: object, field: str) -> str:
    if not isinstance(text, str) or _EVIDENCE.fullmatch(text) is None:
        raise InputError.for_field(
            "evidence_malformed",
            where=field,
            field=field,
            rule=(
                f"a reference of 1 to {EVIDENCE_MAX_LENGTH} ASCII letters, digits, '.', '_', ':', "
                "'/', '#' or '-', starting with a letter or digit"
            ),
            value=text,
        )
    return text


def customer_currencies(conn: Connection, customer_id: str) -> list[str]:
    """The currencies of the customer's lines, sorted; ``customer_not_found`` when it has none."""
    found = conn.execute(select(lines.c.currency).distinct().where(lines.c.customer_id == customer_id)).scalars().all()
    if not found:
        raise _customer_not_found(customer_id)
    return sorted(found)


def customer_accounts(conn: Connection, customer_id: str) -> list[str]:
    """The accounts of the customer's lines, sorted; ``customer_not_found`` when it has none."""
    found = (
        conn.execute(select(lines.c.account_id).where(lines.c.customer_id == customer_id).order_by(lines.c.account_id))
        .scalars()
        .all()
    )
    if not found:
        raise _customer_not_found(customer_id)
    return list(found)


def _customer_not_found(customer_id: str) -> InputError:
    return InputError.for_field(
        "customer_not_found",
        where=customer_id,
        field="customer_id",
        rule="the customer of a line in the ledger",
        value=customer_id,
    )


def _resolve_currency(conn: Connection, customer_id: str, currency: str | None, field: str) -> str:
    held = customer_currencies(conn, customer_id)
    if currency is None:
        if len(held) > 1:
            raise InputError.for_field(
                "currency_required",
                where=customer_id,
                field=field,
                rule=f"given: the customer's lines are in {held}",
                value=None,
            )
        return held[0]
    currency_exponent(currency)
    if currency not in held:
        raise InputError.for_field(
            "currency_mismatch",
            where=customer_id,
            field=field,
            rule=f"the currency of one of the customer's lines {held}",
            value=currency,
        )
    return currency


def customer_currency(engine: Engine, customer_id: str, currency: str | None = None) -> str:
    """The currency an amount of ``customer_id`` is in: ``currency``, checked, or its lines' one.

    Raises ``customer_not_found`` for a customer without lines, ``currency_mismatch``
    for a currency none of its lines is in, and ``currency_required`` when
    ``currency`` is None and its lines are in more than one.
    """
    customer_id = parse_id(customer_id, "customer_id")
    with read_snapshot(engine) as conn:
        return _resolve_currency(conn, customer_id, currency, "currency")


# --- recording ----------------------------------------------------------------------


@contextmanager
def _writing(engine: Engine) -> Iterator[Connection]:
    with UnitOfWork(engine) as uow:
        yield uow.conn
        uow.commit()


def _insert(conn: Connection, table: Table, row: dict[str, Any]) -> dict[str, Any]:
    row = {**row, "recorded_at": datetime.now(UTC)}
    row["id"] = conn.execute(insert(table).values(row).returning(table.c.id)).scalar_one()
    return row


def record_income(
    engine: Engine,
    customer_id: str,
    *,
    income_monthly: int,
    verified_on: date,
    source: str,
    evidence: str,
    today: date,
    currency: str | None = None,
) -> dict[str, Any]:
    """Append a monthly income of ``customer_id``, verified on ``verified_on`` from ``source``.

    ``income_monthly`` is minor units of ``currency`` (the customer's lines' currency
    when None), from 0 to MAX_AMOUNT_MINOR; ``source`` is one of INCOME_SOURCES (only
    income_proof and bank_statement count as verified for features); ``verified_on``
    at most a day after ``today``. Returns the stored row.
    """
    customer_id = parse_id(customer_id, "customer_id")
    _check_amount(income_monthly, "income_monthly")
    check_event_date(verified_on, "verified_on", today=today)
    _check_choice(source, "source", INCOME_SOURCES, "income_source_unknown")
    _check_evidence(evidence, "evidence")
    with _writing(engine) as conn:
        resolved = _resolve_currency(conn, customer_id, currency, "currency")
        return _insert(
            conn,
            customer_incomes,
            {
                "customer_id": customer_id,
                "currency": resolved,
                "income_monthly": income_monthly,
                "verified_on": verified_on,
                "source": source,
                "evidence": evidence,
            },
        )


@dataclass(frozen=True)
class BureauReport:
    """A credit bureau's report on a customer as of a date.

    ``external_debt`` is minor units; ``bureau_score`` None when the bureau gave none
    (a thin file).
    """

    as_of: date
    enquiries_6m: int
    external_debt: int
    external_dpd_max_12m: int
    bureau_score: float | None = None


def record_bureau_report(
    engine: Engine,
    customer_id: str,
    report: BureauReport,
    *,
    today: date,
    currency: str | None = None,
) -> dict[str, Any]:
    """Append a bureau report of ``customer_id``; its debt in ``currency`` (the lines' when None).

    Enquiries 0 to 1000, days past due 0 to 3650, score 0 to 1000 (or None), debt 0
    to MAX_AMOUNT_MINOR, ``as_of`` at most a day after ``today``. Returns the stored row.
    """
    customer_id = parse_id(customer_id, "customer_id")
    check_event_date(report.as_of, "as_of", today=today)
    _check_count(report.enquiries_6m, "enquiries_6m", ENQUIRIES_MAX)
    _check_amount(report.external_debt, "external_debt")
    _check_count(report.external_dpd_max_12m, "external_dpd_max_12m", DPD_MAX)
    _check_score(report.bureau_score, "bureau_score")
    with _writing(engine) as conn:
        resolved = _resolve_currency(conn, customer_id, currency, "currency")
        return _insert(
            conn,
            customer_bureau_reports,
            {
                "customer_id": customer_id,
                "currency": resolved,
                "as_of": report.as_of,
                "enquiries_6m": report.enquiries_6m,
                "external_debt": report.external_debt,
                "external_dpd_max_12m": report.external_dpd_max_12m,
                "bureau_score": None if report.bureau_score is None else float(report.bureau_score),
            },
        )


def record_assets(
    engine: Engine,
    customer_id: str,
    *,
    amount: int,
    verified_on: date,
    evidence: str,
    today: date,
    currency: str | None = None,
) -> dict[str, Any]:
    """Append the verified assets of ``customer_id`` (minor units, 0 to MAX_AMOUNT_MINOR)."""
    customer_id = parse_id(customer_id, "customer_id")
    _check_amount(amount, "amount")
    check_event_date(verified_on, "verified_on", today=today)
    _check_evidence(evidence, "evidence")
    with _writing(engine) as conn:
        resolved = _resolve_currency(conn, customer_id, currency, "currency")
        return _insert(
            conn,
            customer_assets,
            {
                "customer_id": customer_id,
                "currency": resolved,
                "amount": amount,
                "verified_on": verified_on,
                "evidence": evidence,
            },
        )


def record_consent(
    engine: Engine,
    customer_id: str,
    *,
    source: str,
    granted: bool,
    effective_on: date,
    today: date,
) -> dict[str, Any]:
    """Append the customer's consent to use ``source`` (income, bureau or assets): granted or revoked.

    Features of a source are missing unless its latest consent on or before the
    as-of date is a grant.
    """
    customer_id = parse_id(customer_id, "customer_id")
    _check_choice(source, "source", CONSENT_SOURCES, "consent_source_unknown")
    check_event_date(effective_on, "effective_on", today=today)
    with _writing(engine) as conn:
        customer_currencies(conn, customer_id)
        return _insert(
            conn,
            customer_consents,
            {"customer_id": customer_id, "source": source, "granted": bool(granted), "effective_on": effective_on},
        )


# --- reading ------------------------------------------------------------------------


@contextmanager
def _connection(conn_or_engine: Connection | Engine) -> Iterator[Connection]:
    if isinstance(conn_or_engine, Engine):
        with read_snapshot(conn_or_engine) as conn:
            yield conn
    else:
        yield conn_or_engine


_AS_OF = bindparam("as_of", type_=Date)


def _latest_id(table: Table, on: str, *match: Any) -> Any:
    """The id of the row of ``table`` dated latest on or before ``as_of`` among those matching."""
    x = table.alias()
    return (
        select(x.c.id)
        .where(x.c[on] <= _AS_OF, *(m(x) for m in match))
        .order_by(x.c[on].desc(), x.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _same_customer(x: Any) -> Any:
    return x.c.customer_id == lines.c.customer_id


def _same_currency(x: Any) -> Any:
    return x.c.currency == lines.c.currency


def _customer_query(*, some: bool) -> Any:
    """One row per line: its customer's latest of each kind, found by index per line."""
    income, assets, bureau = (
        customer_incomes.alias("ci"),
        customer_assets.alias("ca"),
        customer_bureau_reports.alias("cb"),
    )
    consents = {source: customer_consents.alias(f"cc_{source}") for source in CONSENT_SOURCES}
    joined: Any = lines
    for alias, table, on in (
        (income, customer_incomes, "verified_on"),
        (assets, customer_assets, "verified_on"),
        (bureau, customer_bureau_reports, "as_of"),
    ):
        joined = joined.outerjoin(alias, alias.c.id == _latest_id(table, on, _same_customer, _same_currency))
    for source, alias in consents.items():
        joined = joined.outerjoin(
            alias,
            alias.c.id
            == _latest_id(customer_consents, "effective_on", _same_customer, lambda x, s=source: x.c.source == s),
        )
    query = (
        select(
            lines.c.account_id,
            lines.c.customer_id,
            lines.c.opened_on,
            income.c.income_monthly,
            income.c.verified_on,
            income.c.source,
            assets.c.amount,
            bureau.c.enquiries_6m,
            bureau.c.external_debt,
            bureau.c.external_dpd_max_12m,
            bureau.c.bureau_score,
            *(alias.c.granted for alias in consents.values()),
        )
        .select_from(joined)
        .where(lines.c.opened_on <= _AS_OF)
        .order_by(lines.c.account_id)
    )
    if some:
        query = query.where(lines.c.account_id.in_(bindparam("accounts", expanding=True)))
    return query


_CUSTOMER_QUERIES = {some: _customer_query(some=some) for some in (False, True)}


def customers_as_of(
    conn_or_engine: Connection | Engine, as_of: date, accounts: Sequence[str] | None = None
) -> pd.DataFrame:
    """The customer table of the lines open on ``as_of`` (of ``accounts`` only, when given).

    One row per account, columns :data:`CUSTOMER_COLUMNS` in the portfolio's canonical
    types (dates ``datetime64[ns]``, counts and amounts ``Int64``, consent ``boolean``):
    the latest income, assets and bureau report dated on or before ``as_of`` in the
    line's currency, and consent True only where the latest consent of that source on
    or before ``as_of`` is a grant (False when never given). Values are given whatever
    the consent: the features leave out a source without it. Rows are sorted by account.
    """
    with _connection(conn_or_engine) as conn:
        params: dict[str, Any] = {"as_of": as_of}
        if accounts is not None:
            params["accounts"] = list(accounts)
        rows = conn.execute(_CUSTOMER_QUERIES[accounts is not None], params).all()
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(CUSTOMER_COLUMNS)
    data = dict(zip(CUSTOMER_COLUMNS, columns, strict=True))
    convert: dict[str, Callable[[Sequence[Any]], Any]] = {
        "income_source": _texts,
        "opened_on": _dates,
        "income_verified_on": _dates,
        "bureau_score": _floats,
        "consent_income": _flags,
        "consent_bureau": _flags,
        "consent_assets": _flags,
        **dict.fromkeys(
            ("income_monthly", "assets", "bureau_enquiries_6m", "external_debt", "external_dpd_max_12m"), _integers
        ),
    }
    # Built from numpy arrays: pandas' inference per column cost more than the query.
    return pd.DataFrame(
        {
            name: convert.get(name, _objects)(data[name])  # type: ignore[no-untyped-call]
            for name in CUSTOMER_COLUMNS
        }
    )


def _objects(values: Sequence[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _texts(values: Sequence[str | None]) -> np.ndarray:
    """Objects with NaN for missing, as pandas' own text columns have it."""
    return _objects([np.nan if v is None else v for v in values])


def _integers(values: Sequence[int | None]) -> pd.api.extensions.ExtensionArray:
    missing = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
    numbers = np.fromiter((0 if v is None else v for v in values), dtype="int64", count=len(values))
    return pd.arrays.IntegerArray(numbers, missing)


def _floats(values: Sequence[float | None]) -> np.ndarray:
    return np.fromiter((np.nan if v is None else v for v in values), dtype="float64", count=len(values))


def _flags(values: Sequence[bool | None]) -> pd.api.extensions.ExtensionArray:
    granted = np.fromiter((bool(v) for v in values), dtype=bool, count=len(values))
    return pd.arrays.BooleanArray(granted, np.zeros(len(values), dtype=bool))


def _dates(values: Sequence[date | None]) -> np.ndarray:
    out: np.ndarray = np.array(
        [np.datetime64("NaT") if v is None else np.datetime64(v, "D") for v in values], dtype="datetime64[D]"
    ).astype("datetime64[ns]")
    return out
