"""The decider the service decides with: the database's active strategy and model, followed as they change.

An admin activating another version (``linewise strategy activate``, ``POST
/strategies/{ref}/activate``) changes the decisions of a running service from its next
request on, without a restart: :class:`LiveDecider` looks at the latest activation at
most once every ``check_seconds`` and rebuilds when it changed. A version that cannot
be built (a stored model of a kind this linewise does not know, corrupt files, a
strategy the format no longer takes, currencies that differ) is refused: the service
keeps deciding with what it had, logs the error, and tells it in ``reload_error``
until another activation.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from linewise.errors import LinewiseError
from linewise.ledger.store.versions import latest_activation_id
from linewise.review.deciders import ActiveDecider, active_decider
from linewise.review.run import Decider

__all__ = ["LiveDecider"]

logger = logging.getLogger(__name__)


class LiveDecider:
    """The database's active decider, made when the service starts and rebuilt after each activation.

    ``model_dir`` and ``strategy_file`` are used for a kind none of which is active
    in the database. Making one raises what :func:`~linewise.review.deciders.active_decider`
    raises: a service that cannot decide does not start.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        model_dir: Path | None,
        strategy_file: Path | None,
        check_seconds: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._model_dir = model_dir
        self._strategy_file = strategy_file
        self._check_seconds = check_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._active = active_decider(engine, model_dir=model_dir, strategy_file=strategy_file)
        self._seen = self._active.activation_id
        self._checked_at = monotonic()
        self.reload_error: LinewiseError | None = None

    @property
    def active(self) -> ActiveDecider:
        """What the service decides with now, and where it came from (without looking for a change)."""
        return self._active

    def wants_a_look(self) -> bool:
        """Whether :meth:`current` would ask the database now: its last look is ``check_seconds`` old."""
        return self._monotonic() - self._checked_at >= self._check_seconds

    def current(self) -> Decider:
        """The decider to decide with: rebuilt first when an activation came since the last look.

        The database is asked at most once every ``check_seconds``; a rebuild that
        fails keeps the decider the service had (see the module's docstring).
        """
        with self._lock:
            now = self._monotonic()
            if now - self._checked_at >= self._check_seconds:
                self._checked_at = now
                self._follow()
            return self._active.decider

    def _follow(self) -> None:
        with self._engine.connect() as conn:
            latest = latest_activation_id(conn)
        if latest == self._seen:
            return
        try:
            made = active_decider(
                self._engine, model_dir=self._model_dir, strategy_file=self._strategy_file, previous=self._active
            )
        except LinewiseError as exc:
            # Not tried again until the next activation: the same versions would fail the same way.
            self._seen = latest
            self.reload_error = exc
            kept = "; ".join(self._active.describe())
            logger.error("activation %s refused: %s [%s]; still deciding with %s", latest, exc, exc.code, kept)
            return
        self._active, self._seen, self.reload_error = made, made.activation_id, None
        logger.info("activation %s: now deciding with %s", made.activation_id, "; ".join(made.describe()))
