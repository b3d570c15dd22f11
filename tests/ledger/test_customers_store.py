"""The customer tables: migration 0004 on a ledger in use, the record functions' checks, as-of reads."""

from __future__ import annotations

from datetime import date

import pytest
from alembic import command
from alembic.config import Config
from tests.ledger.common import snapshot

from linewise.data.schemas import INCOME_SOURCES
from linewise.errors import InputError
from linewise.features.families.income import VERIFIED_SOURCES
from linewise.ledger.events import LineOpened
from linewise.ledger.service import post_events, read_state
from linewise.ledger.store import customers, is_at_head, upgrade
from linewise.ledger.store.customers import BureauReport, customers_as_of
from linewise.ledger.store.engine import _MIGRATIONS

TODAY = date(2026, 6, 30)


def _open(engine, *lines):
    post_events(
        engine,
        [
            LineOpened(
                account_id=a,
                occurred_on=date(2026, 1, 15),
                idempotency_key=f"{a}-o",
                customer_id=c,
                currency=cur,
                credit_limit=1_000_000,
            )
            for a, c, cur in lines
        ],
    )


def test_the_store_allows_the_income_sources_the_customer_schema_allows():
    assert customers.INCOME_SOURCES == INCOME_SOURCES
    assert set(VERIFIED_SOURCES) <= set(INCOME_SOURCES)


def test_migration_0004_adds_the_customer_tables_to_a_ledger_in_use_and_keeps_every_event(engine):
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["engine"] = engine
    command.downgrade(config, "0003")
    _open(engine, ("A1", "C1", "CNY"))
    before = snapshot(engine)
    upgrade(engine)
    assert is_at_head(engine) and snapshot(engine) == before
    assert read_state(engine, "A1").line.customer_id == "C1"
    customers.record_income(
        engine,
        "C1",
        income_monthly=500_000,
        verified_on=date(2026, 2, 1),
        source="income_proof",
        evidence="p1",
        today=TODAY,
    )
    assert customers_as_of(engine, date(2026, 2, 1))["income_monthly"].tolist() == [500_000]


def test_values_at_each_bound_are_taken_and_one_past_it_refused_writing_nothing(engine):
    _open(engine, ("A1", "C1", "CNY"))
    ok = BureauReport(
        as_of=TODAY, enquiries_6m=1000, external_debt=10**15, external_dpd_max_12m=3650, bureau_score=1000.0
    )
    customers.record_bureau_report(engine, "C1", ok, today=TODAY)
    before = snapshot(engine)
    for bad, code in (
        (BureauReport(TODAY, 1001, 0, 0), "number_out_of_range"),
        (BureauReport(TODAY, 0, 10**15 + 1, 0), "amount_out_of_range"),
        (BureauReport(TODAY, 0, 0, 3651), "number_out_of_range"),
        (BureauReport(TODAY, 0, 0, 0, 1000.5), "number_out_of_range"),
        (BureauReport(TODAY, -1, 0, 0), "number_out_of_range"),
        (BureauReport(date(2026, 7, 2), 0, 0, 0), "date_after_today"),
    ):
        with pytest.raises(InputError) as refused:
            customers.record_bureau_report(engine, "C1", bad, today=TODAY)
        assert refused.value.code == code
    with pytest.raises(InputError) as refused:
        customers.record_income(
            engine, "C1", income_monthly=True, verified_on=TODAY, source="declared", evidence="x", today=TODAY
        )
    assert refused.value.code == "amount_out_of_range"
    assert snapshot(engine) == before


def test_a_customer_with_lines_in_two_currencies_names_the_currency_of_each_amount(engine):
    _open(engine, ("A1", "C1", "CNY"), ("A2", "C1", "USD"))
    with pytest.raises(InputError) as refused:
        customers.record_income(
            engine, "C1", income_monthly=1, verified_on=TODAY, source="declared", evidence="x", today=TODAY
        )
    assert refused.value.code == "currency_required"
    customers.record_income(
        engine,
        "C1",
        income_monthly=700_000,
        verified_on=TODAY,
        source="income_proof",
        evidence="x",
        today=TODAY,
        currency="USD",
    )
    table = customers_as_of(engine, TODAY).set_index("account_id")
    assert table["income_monthly"].isna()["A1"] and table.loc["A2", "income_monthly"] == 700_000


def test_on_the_same_date_the_later_recorded_consent_holds(engine):
    _open(engine, ("A1", "C1", "CNY"))
    for granted in (True, False, True):
        customers.record_consent(engine, "C1", source="assets", granted=granted, effective_on=TODAY, today=TODAY)
    assert customers_as_of(engine, TODAY, ["A1"])["consent_assets"].tolist() == [True]
    assert customers_as_of(engine, date(2026, 6, 29), ["A1"])["consent_assets"].tolist() == [False]
