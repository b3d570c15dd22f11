"""SQLAlchemy Core tables.

The ledger: ``events`` is append-only, one event per account and idempotency key; lines, drawdowns, instalments, allocations
and limit history are projections of it. The decision log: every decision with the
features it was made from, grouped in runs, and the text of every strategy used.
Customers: what the ledger does not hold about a customer (verified income, bureau
reports, verified assets, consent per source), append-only: the value as of a date
is the latest row dated on or before it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from linewise.decision_schema import DECISION_FIELDS, DecisionField

metadata = MetaData()

lines = Table(
    "lines",
    metadata,
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
    "events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("account_id", String(64), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("occurred_on", Date, nullable=False),
    Column("idempotency_key", String(128), nullable=False),
    Column("reason_code", String(64)),
    Column("decision_ref", String(128)),
    Column("payload", Text, nullable=False),
    Column("result", Text, nullable=False),
    Column("posted_at", DateTime(timezone=True), nullable=False),
    # Keys are scoped to their account, as payment APIs scope them: the same key on
    # two accounts is two requests (migration 0003).
    UniqueConstraint("account_id", "idempotency_key", name="uq_events_account_key"),
)

drawdowns = Table(
    "drawdowns",
    metadata,
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
    "instalments",
    metadata,
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
    "allocations",
    metadata,
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
    "limit_history",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("account_id", String(64), nullable=False),
    Column("effective_on", Date, nullable=False),
    Column("credit_limit", BigInteger, nullable=False),
    Column("event_key", String(128), nullable=False),
    Index("ix_limit_history_account", "account_id", "effective_on"),
)

PROJECTIONS = (allocations, instalments, drawdowns, limit_history)


strategies = Table(
    "strategies",
    metadata,
    Column("ref", String(128), primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("stored_at", DateTime(timezone=True), nullable=False),
    # Who stored it to be activated (migration 0007); None for a strategy the decision
    # log stored with the first run it decided.
    Column("stored_by", String(64)),
)

decision_runs = Table(
    "decision_runs",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("as_of", Date, nullable=False),
    Column("trigger", String(16), nullable=False),
    Column("strategy_ref", String(128), ForeignKey("strategies.ref"), nullable=False),
    Column("model_ref", String(128), nullable=False),
    Column("with_recourse", Boolean, nullable=False),
    Column("accounts", Integer, nullable=False),
    Column("stored_at", DateTime(timezone=True), nullable=False),
)


def _decision_column(field: DecisionField) -> Column[Any]:
    kinds: dict[str, Any] = {
        "text": String(field.width),
        "date": Date(),
        "minor": BigInteger(),
        "number": Double(),
        "codes": Text(),
    }
    kind = kinds[field.kind]
    return Column(field.column, kind, nullable=field.nullable)


# The decision contract's columns (linewise.decision_schema), then what each was made from.
decisions = Table(
    "decisions",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column(
        "run_id",
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("decision_runs.id"),
        nullable=False,
        index=True,
    ),
    *(_decision_column(field) for field in DECISION_FIELDS),
    Column("features", Text, nullable=False),
    Column("context", Text, nullable=False),
    Index("ix_decisions_account", "account_id", "as_of"),
)


# --- customers (migration 0004) -----------------------------------------------------
# Keyed by lines.customer_id (a customer exists once one of its lines does), so no
# foreign key: customer_id is not unique in lines. Amounts carry their currency: a
# customer's lines may be in more than one.

customer_incomes = Table(
    "customer_incomes",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("customer_id", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("income_monthly", BigInteger, nullable=False),
    Column("verified_on", Date, nullable=False),
    Column("source", String(16), nullable=False),
    Column("evidence", String(128), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("ix_customer_incomes_customer", "customer_id", "verified_on"),
)

customer_bureau_reports = Table(
    "customer_bureau_reports",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("customer_id", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("enquiries_6m", Integer, nullable=False),
    Column("external_debt", BigInteger, nullable=False),
    Column("external_dpd_max_12m", Integer, nullable=False),
    Column("bureau_score", Double),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("ix_customer_bureau_reports_customer", "customer_id", "as_of"),
)

customer_assets = Table(
    "customer_assets",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("customer_id", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("verified_on", Date, nullable=False),
    Column("evidence", String(128), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("ix_customer_assets_customer", "customer_id", "verified_on"),
)

customer_consents = Table(
    "customer_consents",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("customer_id", String(64), nullable=False),
    Column("source", String(16), nullable=False),
    Column("granted", Boolean, nullable=False),
    Column("effective_on", Date, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("ix_customer_consents_customer", "customer_id", "source", "effective_on"),
)

CUSTOMER_TABLES = (customer_incomes, customer_bureau_reports, customer_assets, customer_consents)


# --- users of the service and the audit log (migration 0005) ----------------------------
# A customer user sees the lines of its customer_id only; staff (analyst, admin) have
# none. The password is stored as an argon2 hash, never as itself.

USER_ROLES = ("customer", "analyst", "admin")

users = Table(
    "users",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(256), nullable=False),
    Column("role", String(16), nullable=False),
    Column("customer_id", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("role IN ('customer', 'analyst', 'admin')", name="ck_users_role"),
    CheckConstraint("(role = 'customer') = (customer_id IS NOT NULL)", name="ck_users_customer"),
)

# Append-only: who did what to which target, when and why. ``ref`` is the idempotency
# key of the ledger event the action posted (None for actions that post none): one row
# per target and ref, so that a retried request completes a trail and never doubles it.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(128), nullable=False),
    Column("ref", String(128)),
    Column("reason", String(64)),
    Column("detail", Text, nullable=False),
    UniqueConstraint("target", "ref", name="uq_audit_log_target_ref"),
    Index("ix_audit_log_target", "target", "at"),
)


# --- versions of models and which strategy and model are active (migration 0007) ---------
# A model version is its directory's files (JSON and text) as one JSON object of
# name -> text, once per id@version; the same ref with other files is refused.
# Activations are append-only: the active version of a kind is its latest activation.

VERSION_KINDS = ("strategy", "model")

model_versions = Table(
    "model_versions",
    metadata,
    Column("ref", String(128), primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("currency", String(3)),
    Column("files", Text, nullable=False),
    Column("stored_at", DateTime(timezone=True), nullable=False),
    Column("stored_by", String(64), nullable=False),
)

activations = Table(
    "activations",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("ref", String(128), nullable=False),
    Column("activated_by", String(64), nullable=False),
    Column("activated_at", DateTime(timezone=True), nullable=False),
    Column("note", Text),
    CheckConstraint("kind IN ('strategy', 'model')", name="ck_activations_kind"),
    Index("ix_activations_kind", "kind", "id"),
)
