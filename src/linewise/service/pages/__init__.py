"""The web pages: server-rendered HTML in zh-CN and en, signed in by a cookie, under ``/web``.

A customer's "my limit" page (the line, the latest decision and why, what would raise
it, the limit's history, the credit report, a drawdown previewed, borrowed and repaid),
the public criteria, and the analyst console (the portfolio, a decision's audit,
strategy diffs). Like the API, the pages parse, call the application layer and
present; they hold no decision or ledger logic.
"""

from linewise.service.pages.site import PAGES_PREFIX, mount_pages, pages_app

__all__ = ["PAGES_PREFIX", "mount_pages", "pages_app"]
