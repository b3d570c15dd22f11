"""Customer-table columns gated by consent: no consent, or no column, means missing."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["consented_column", "customer_rows"]


def customer_rows(customers: pd.DataFrame, account_ids: np.ndarray) -> pd.DataFrame:
    """The customer table's rows for ``account_ids``, in that order."""
    return customers.set_index("account_id").reindex(account_ids)


def consented_column(rows: pd.DataFrame, column: str, consent: str) -> np.ndarray:
    """``column`` as floats, NaN wherever the consent flag is not true or the value is absent."""
    if column not in rows.columns:
        return np.full(len(rows), np.nan)
    values = rows[column].to_numpy(dtype="float64", na_value=np.nan)
    if consent not in rows.columns:
        return np.full(len(rows), np.nan)
    allowed = rows[consent].to_numpy(dtype="bool", na_value=False)
    return np.where(allowed, values, np.nan)
