"""Customer commands: verified income, bureau reports, assets, consent, and what is known as of a date."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import typer
from rich.table import Table

from linewise.cli._common import (
    console,
    emit,
    engine,
    event_date,
    parse_date,
    today,
    user_errors,
)
from linewise.inputs import parse_id
from linewise.ledger.store import read_snapshot
from linewise.ledger.store.customers import (
    BureauReport,
    check_consent_source,
    check_evidence,
    check_income_source,
    customer_accounts,
    customer_currency,
    customers_as_of,
    record_assets,
    record_bureau_report,
    record_consent,
    record_income,
)
from linewise.money import format_amount, parse_amount

customer_app = typer.Typer(
    help="What the ledger does not hold about a customer: income, bureau, assets, consent.", no_args_is_help=True
)

JSON = typer.Option(False, "--json", help="Machine-readable output.")
CUSTOMER = typer.Option(..., "--customer", help="Customer id (the customer of a line).")
ON = typer.Option(None, "--on", help="Date it was verified or reported (YYYY-MM-DD); today if left out.")
CURRENCY = typer.Option(None, "--currency", help="Currency of the amounts; the customer's lines' if left out.")
EVIDENCE = typer.Option(..., "--evidence", help="Reference of the document that proves it, e.g. payslip-2026-03.")


def _stored(row: dict[str, Any]) -> dict[str, Any]:
    return {name: value.isoformat() if isinstance(value, date) else value for name, value in row.items()}


@customer_app.command("income")
def customer_income(
    customer: str = CUSTOMER,
    amount: str = typer.Option(..., "--amount", help="Monthly income in major units, e.g. 12000.00."),
    source: str = typer.Option(..., "--source", help="income_proof, bank_statement or declared."),
    evidence: str = EVIDENCE,
    currency: str | None = CURRENCY,
    on: str | None = ON,
    as_json: bool = JSON,
) -> None:
    """Record a customer's monthly income and how it was verified."""
    with user_errors():
        who = parse_id(customer, "--customer")
        verified_on = event_date(on)
        check_income_source(source, "--source")
        check_evidence(evidence, "--evidence")
        eng = engine()
        cur = customer_currency(eng, who, currency)
        row = record_income(
            eng,
            who,
            income_monthly=parse_amount(amount, cur, field="--amount", allow_zero=True),
            verified_on=verified_on,
            source=source,
            evidence=evidence,
            today=today(),
            currency=cur,
        )
        emit(
            as_json,
            _stored(row),
            lambda: console.print(
                f"{who}: income {format_amount(row['income_monthly'], cur)} {cur} a month "
                f"({source}, verified {verified_on}, evidence {evidence})"
            ),
        )


@customer_app.command("bureau")
def customer_bureau(
    customer: str = CUSTOMER,
    enquiries: int = typer.Option(..., "--enquiries-6m", help="Credit applications elsewhere in 6 months."),
    debt: str = typer.Option(..., "--external-debt", help="Debt owed to other lenders, major units."),
    dpd: int = typer.Option(..., "--external-dpd-max-12m", help="Longest days past due elsewhere in 12 months."),
    score: float | None = typer.Option(None, "--bureau-score", help="The bureau's score (0-1000), if it gave one."),
    currency: str | None = CURRENCY,
    on: str | None = ON,
    as_json: bool = JSON,
) -> None:
    """Record a credit bureau's report on a customer."""
    with user_errors():
        who = parse_id(customer, "--customer")
        as_of = event_date(on)
        eng = engine()
        cur = customer_currency(eng, who, currency)
        report = BureauReport(
            as_of=as_of,
            enquiries_6m=enquiries,
            external_debt=parse_amount(debt, cur, field="--external-debt", allow_zero=True),
            external_dpd_max_12m=dpd,
            bureau_score=score,
        )
        row = record_bureau_report(eng, who, report, today=today(), currency=cur)
        emit(
            as_json,
            _stored(row),
            lambda: console.print(
                f"{who}: bureau report of {as_of}: {enquiries} enquiries in 6 months, external debt "
                f"{format_amount(row['external_debt'], cur)} {cur}, worst {dpd} days past due in 12 months, "
                f"score {'-' if score is None else f'{score:g}'}"
            ),
        )


@customer_app.command("assets")
def customer_assets(
    customer: str = CUSTOMER,
    amount: str = typer.Option(..., "--amount", help="Verified assets in major units."),
    evidence: str = EVIDENCE,
    currency: str | None = CURRENCY,
    on: str | None = ON,
    as_json: bool = JSON,
) -> None:
    """Record a customer's verified assets."""
    with user_errors():
        who = parse_id(customer, "--customer")
        verified_on = event_date(on)
        check_evidence(evidence, "--evidence")
        eng = engine()
        cur = customer_currency(eng, who, currency)
        row = record_assets(
            eng,
            who,
            amount=parse_amount(amount, cur, field="--amount", allow_zero=True),
            verified_on=verified_on,
            evidence=evidence,
            today=today(),
            currency=cur,
        )
        emit(
            as_json,
            _stored(row),
            lambda: console.print(
                f"{who}: assets {format_amount(row['amount'], cur)} {cur} (verified {verified_on}, evidence {evidence})"
            ),
        )


@customer_app.command("consent")
def customer_consent(
    customer: str = CUSTOMER,
    source: str = typer.Option(..., "--source", help="income, bureau or assets."),
    grant: bool = typer.Option(..., "--grant/--revoke", help="Give or take back consent to use the source."),
    on: str | None = ON,
    as_json: bool = JSON,
) -> None:
    """Record a customer's consent to use a data source, or its withdrawal."""
    with user_errors():
        who = parse_id(customer, "--customer")
        effective_on = event_date(on)
        check_consent_source(source, "--source")
        row = record_consent(engine(), who, source=source, granted=grant, effective_on=effective_on, today=today())
        emit(
            as_json,
            _stored(row),
            lambda: console.print(
                f"{who}: consent to use {source} {'granted' if grant else 'revoked'} from {effective_on}"
            ),
        )


def _plain(value: Any) -> Any:
    if value is None or pd.isna(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


@customer_app.command("show")
def customer_show(
    customer: str = CUSTOMER,
    as_of: str | None = typer.Option(None, "--as-of", help="YYYY-MM-DD; today if left out."),
    as_json: bool = JSON,
) -> None:
    """What is known of a customer as of a date, per line: income, assets, bureau, consent."""
    with user_errors():
        who = parse_id(customer, "--customer")
        day = parse_date(as_of, "--as-of")
        with read_snapshot(engine()) as conn:
            rows = customers_as_of(conn, day, customer_accounts(conn, who))
        records = [{str(name): _plain(value) for name, value in row.items()} for row in rows.to_dict("records")]
        emit(
            as_json, {"customer_id": who, "as_of": day.isoformat(), "lines": records}, lambda: _print(who, day, records)
        )


def _print(who: str, day: date, records: list[dict[str, Any]]) -> None:
    if not records:
        console.print(f"{who}: no line open on {day}")
        return
    table = Table(title=f"{who} as of {day}", title_justify="left")
    table.add_column("(amounts in minor units)")
    for record in records:
        table.add_column(str(record["account_id"]))
    for name in list(records[0])[2:]:
        table.add_row(name, *("-" if r[name] is None else str(r[name]) for r in records))
    console.print(table)
