"""SQLAlchemy Core tables. ``events`` is append-only; the others are projections of it."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

lines = Table(
    "lines", metadata,
    Column("account_id", String(64), primary_key=True),
    Column("customer_id", String(64), nullable=False, index=True),
    Column("currency", String(3), nullable=False),
    Column("credit_limit", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("opened_on", Date, nullable=False),
    Column("last_event_on", Date, nullable=False),
    Column("version", Integer, nullable=False),
)

events = Table(
    "events", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("account_id", String(64), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("occurred_on", Date, nullable=False),
    Column("idempotency_key", String(128), nullable=False, unique=True),
    Column("reason_code", String(64)),
    Column("decision_ref", String(128)),
    Column("payload", Text, nullable=False),
    Column("result", Text, nullable=False),
    Column("posted_at", DateTime(timezone=True), nullable=False),
)

drawdowns = Table(
    "drawdowns", metadata,
    Column("account_id", String(64), ForeignKey("lines.account_id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("drawn_on", Date, nullable=False),
    Column("principal", BigInteger, nullable=False),
    Column("term_months", Integer, nullable=False),
    Column("method", String(32), nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("annual_rate", String(16), nullable=False),
    Column("day_count", String(8), nullable=False),
    Column("grace_days", Integer, nullable=False),
    Column("penalty_rate", String(16), nullable=False),
    Column("prepayment", String(32), nullable=False),
)

instalments = Table(
    "instalments", metadata,
    Column("account_id", String(64), primary_key=True),
    Column("drawdown_seq", Integer, primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("due_on", Date, nullable=False),
    Column("principal_due", BigInteger, nullable=False),
    Column("interest_due", BigInteger, nullable=False),
    Column("principal_paid", BigInteger, nullable=False),
    Column("interest_paid", BigInteger, nullable=False),
    Column("penalty_accrued", BigInteger, nullable=False),
    Column("penalty_paid", BigInteger, nullable=False),
    Column("penalty_accrued_to", Date),
    Column("settled_on", Date),
)

allocations = Table(
    "allocations", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("account_id", String(64), nullable=False, index=True),
    Column("event_key", String(128), nullable=False),
    Column("drawdown_seq", Integer, nullable=False),
    Column("instalment_number", Integer, nullable=False),
    Column("component", String(16), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("posted_on", Date, nullable=False),
)

limit_history = Table(
    "limit_history", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("account_id", String(64), nullable=False),
    Column("effective_on", Date, nullable=False),
    Column("credit_limit", BigInteger, nullable=False),
    Column("event_key", String(128), nullable=False),
    Index("ix_limit_history_account", "account_id", "effective_on"),
)

PROJECTIONS = (allocations, instalments, drawdowns, limit_history)
