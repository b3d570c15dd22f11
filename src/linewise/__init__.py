"""linewise: credit-line management for revolving consumer credit."""

from linewise.errors import InputError, LedgerRejected, LinewiseError

__version__ = "0.1.0"

__all__ = ["InputError", "LedgerRejected", "LinewiseError", "__version__"]
