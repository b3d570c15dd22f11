"""The decision contract of DESIGN.md, column by column, declared once.

``decide`` builds its frame in this order and these types, the Parquet writer takes
its Arrow schema from here, the decision log's table is built from it (each column
under its ``stored_as`` name) and a replay compares exactly these columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

__all__ = ["DECISION_COLUMNS", "DECISION_FIELDS", "DecisionField", "decision_arrow_schema"]

FieldKind = Literal["text", "date", "minor", "number", "codes"]


@dataclass(frozen=True)
class DecisionField:
    """One column of a decision: its kind, whether it may be missing, its name in the log.

    Kinds: ``text`` a string, ``date`` a calendar date, ``minor`` an integer amount in
    minor units, ``number`` a float, ``codes`` an ordered list of codes (stored as a
    JSON array in the log).
    """

    name: str
    kind: FieldKind
    nullable: bool = False
    description: str = ""
    stored_as: str = ""
    width: int = 0

    @property
    def column(self) -> str:
        """The column's name in the decision log's table."""
        return self.stored_as or self.name


DECISION_FIELDS: tuple[DecisionField, ...] = (
    DecisionField("account_id", "text", width=64, description="the line decided"),
    DecisionField("as_of", "date", description="the day the decision describes"),
    DecisionField("trigger", "text", width=16, description="what called for it: review, repayment, ..."),
    DecisionField("action", "text", width=16, description="increase, hold, decrease or freeze"),
    DecisionField("current_limit", "minor", description="the limit it was decided on"),
    DecisionField("new_limit", "minor", description="the limit it sets"),
    DecisionField("pd", "number", description="the model's probability of default"),
    DecisionField("score", "number", description="the model's score in points"),
    DecisionField("risk_grade", "text", width=32),
    DecisionField("segment", "text", width=64),
    DecisionField("reasons", "codes", description="why, most telling first (at most four)"),
    DecisionField("recourse", "codes", description="the steps that would raise the line"),
    DecisionField("recourse_limit", "minor", nullable=True, description="the limit the steps would give"),
    DecisionField("recourse_on", "date", nullable=True, description="the review at which they would"),
    DecisionField("strategy", "text", width=128, stored_as="strategy_ref", description="id@version"),
    DecisionField("model", "text", width=128, stored_as="model_ref", description="id@version"),
    DecisionField("arm", "text", width=64, description="champion or a challenger's name"),
)

DECISION_COLUMNS: tuple[str, ...] = tuple(field.name for field in DECISION_FIELDS)

_ARROW = {
    "text": pa.string(),
    "date": pa.date32(),
    "minor": pa.int64(),
    "number": pa.float64(),
    "codes": pa.list_(pa.string()),
}


def decision_arrow_schema() -> pa.Schema:
    """The Arrow schema decisions are written to Parquet with."""
    return pa.schema([pa.field(f.name, _ARROW[f.kind], nullable=f.nullable) for f in DECISION_FIELDS])
