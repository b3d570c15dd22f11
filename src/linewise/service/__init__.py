"""The web service: the API with roles (``linewise serve``).

An adapter like the CLI: each route parses, calls the ledger's functions or the
application layer (:mod:`linewise.review`), and presents what they return.
"""

from linewise.service.app import create_app
from linewise.service.settings import ServiceSettings

__all__ = ["ServiceSettings", "create_app"]
