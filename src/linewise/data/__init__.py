"""Portfolio data: the panel, customer and outcome tables, their validation and importers."""

from linewise.data.files import read_portfolio, read_table, write_portfolio, write_table
from linewise.data.portfolio import Portfolio
from linewise.data.schemas import (
    CUSTOMER_SCHEMA,
    OUTCOME_SCHEMA,
    PANEL_SCHEMA,
    Column,
    Schema,
)
from linewise.data.validate import validate_table

__all__ = [
    "CUSTOMER_SCHEMA",
    "OUTCOME_SCHEMA",
    "PANEL_SCHEMA",
    "Column",
    "Portfolio",
    "Schema",
    "read_portfolio",
    "read_table",
    "validate_table",
    "write_portfolio",
    "write_table",
]
