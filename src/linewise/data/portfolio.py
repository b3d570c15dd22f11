"""A portfolio: its panel, customers and (when known) outcomes, validated together."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from linewise.data.schemas import CUSTOMER_SCHEMA, OUTCOME_SCHEMA, PANEL_SCHEMA
from linewise.data.validate import validate_table
from linewise.errors import Problem, SchemaMismatchError
from linewise.money import currency_exponent

__all__ = ["Portfolio"]


@dataclass(frozen=True)
class Portfolio:
    """Validated tables in canonical types; build with :meth:`from_frames`.

    ``outcomes`` is None for a live portfolio whose future is not known yet.
    Amounts are minor units of ``currency``.
    """

    panel: pd.DataFrame
    customers: pd.DataFrame
    outcomes: pd.DataFrame | None
    currency: str
    source: str
    attribution: str = ""

    @classmethod
    def from_frames(
        cls,
        panel: pd.DataFrame,
        customers: pd.DataFrame,
        outcomes: pd.DataFrame | None = None,
        *,
        currency: str,
        source: str,
        attribution: str = "",
    ) -> Portfolio:
        """A portfolio whose tables meet their schemas and agree with each other.

        Raises :class:`SchemaMismatchError` listing every problem of every table;
        ``source`` names them in the messages (``<source>/panel`` ...).
        """
        currency_exponent(currency)
        problems: list[Problem] = []
        tables: dict[str, pd.DataFrame | None] = {}
        for name, frame, schema in (
            ("panel", panel, PANEL_SCHEMA),
            ("customers", customers, CUSTOMER_SCHEMA),
            ("outcomes", outcomes, OUTCOME_SCHEMA),
        ):
            if frame is None:
                tables[name] = None
                continue
            try:
                tables[name] = validate_table(frame, schema, f"{source}/{name}")
            except SchemaMismatchError as exc:
                problems.extend(exc.problems)
        if not problems:
            problems.extend(_cross_check(tables, source))
        if problems:
            raise SchemaMismatchError(problems)
        checked_panel, checked_customers = tables["panel"], tables["customers"]
        assert checked_panel is not None
        assert checked_customers is not None
        return cls(
            panel=checked_panel.sort_values(["account_id", "month"], ignore_index=True),
            customers=checked_customers.sort_values("account_id", ignore_index=True),
            outcomes=tables["outcomes"],
            currency=currency,
            source=source,
            attribution=attribution,
        )

    @property
    def months(self) -> list[pd.Timestamp]:
        """The month ends the panel covers, oldest first."""
        return [pd.Timestamp(month) for month in sorted(self.panel["month"].unique())]

    @property
    def n_accounts(self) -> int:
        """How many accounts the customer table holds."""
        return len(self.customers)


def _cross_check(tables: dict[str, pd.DataFrame | None], source: str) -> list[Problem]:
    panel, customers, outcomes = tables["panel"], tables["customers"], tables["outcomes"]
    assert panel is not None
    assert customers is not None
    known = pd.Index(customers["account_id"])
    problems = []
    orphans = pd.Index(panel["account_id"].unique()).difference(known)
    if len(orphans):
        problems.append(
            Problem(
                f"{source}/panel",
                None,
                "account_id",
                "an account of the customer table",
                f"{len(orphans)} unknown, e.g. {list(orphans[:5])}",
            )
        )
    if outcomes is not None:
        unknown = pd.Index(outcomes["account_id"]).difference(known)
        if len(unknown):
            problems.append(
                Problem(
                    f"{source}/outcomes",
                    None,
                    "account_id",
                    "an account of the customer table",
                    f"{len(unknown)} unknown, e.g. {list(unknown[:5])}",
                )
            )
    return problems
