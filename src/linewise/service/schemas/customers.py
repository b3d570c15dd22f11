"""Proofs a customer gives: verified income and assets."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from linewise.ledger.store.customers import INCOME_SOURCES
from linewise.service.schemas.common import CurrencyText, DateText, EvidenceText, In, MinorUnits, Out
from linewise.service.schemas.decisions import FollowUpOut

__all__ = ["AssetProofIn", "IncomeProofIn", "ProofOut"]


class IncomeProofIn(In):
    """A monthly income and how it was verified."""

    amount: MinorUnits = Field(description="Monthly income in minor units.")
    source: str = Field(
        max_length=16,
        json_schema_extra={"enum": list(INCOME_SOURCES)},
        description="income_proof and bank_statement count as verified; declared does not.",
    )
    evidence: EvidenceText
    on: DateText | None = Field(None, description="The day it was verified; today when left out.")
    currency: CurrencyText | None = Field(None, description="The customer's lines' when left out.")


class AssetProofIn(In):
    """Verified assets."""

    amount: MinorUnits
    evidence: EvidenceText
    on: DateText | None = None
    currency: CurrencyText | None = None


class ProofOut(Out):
    """The proof as stored, and the decision it called for on each of the customer's lines."""

    customer_id: str
    kind: Literal["income", "assets"]
    amount: int
    currency: str
    verified_on: str
    evidence: str
    source: str | None = None
    follow_ups: dict[str, FollowUpOut] = Field(
        description="The decision on each of the customer's lines, by account id."
    )
