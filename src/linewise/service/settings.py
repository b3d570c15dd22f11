"""The service's settings: ``LINEWISE_*`` variables, checked when the app is made."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic_settings import SettingsConfigDict

from linewise.config import Settings
from linewise.errors import ConfigurationError

__all__ = ["DEVELOPMENT_SECRET", "SECRET_MIN_CHARS", "ServiceSettings"]

# Signs tokens when no secret is set, in development only: it is in the source, so a
# token it signed proves nothing.
DEVELOPMENT_SECRET = "linewise-development-secret-not-for-production"
# HS256 keys shorter than the hash (32 bytes) weaken it (RFC 7518, 3.2).
SECRET_MIN_CHARS = 32


class ServiceSettings(Settings):
    """What ``linewise serve`` and :func:`~linewise.service.create_app` read.

    The database URL and product file as every command reads them
    (:class:`linewise.config.Settings`); ``secret`` signs bearer tokens (HS256);
    ``mode`` is ``development`` or ``production``; the database's active strategy and
    model make the decisions, looked for at most every ``decider_check_seconds`` (a
    version an admin activates is used from then on), and ``model_dir`` and
    ``strategy_file`` (the shipped strategy when None) stand in for a kind none of
    which is active; tokens last
    ``token_minutes``; a username may fail ``login_failures_max`` logins from one
    client within ``login_window_seconds`` before its logins are refused for the rest
    of the window; a line may ask for a higher limit ``request_attempts_max`` times
    within ``request_window_seconds``.
    """

    model_config = SettingsConfigDict(env_prefix="LINEWISE_", extra="ignore")

    secret: str = ""
    mode: Literal["development", "production"] = "development"
    model_dir: Path | None = None
    strategy_file: Path | None = None
    decider_check_seconds: float = 1.0
    token_minutes: int = 30
    login_failures_max: int = 5
    login_window_seconds: int = 300
    request_attempts_max: int = 3
    request_window_seconds: int = 3600

    def signing_secret(self) -> str:
        """The secret tokens are signed with, checked for the mode.

        Raises ConfigurationError in production when the secret is unset, is the
        development one, or is shorter than SECRET_MIN_CHARS; in development an unset
        secret is the development one.
        """
        if self.mode != "production":
            return self.secret or DEVELOPMENT_SECRET
        if not self.secret:
            got = "nothing"
        elif self.secret == DEVELOPMENT_SECRET:
            got = "the development secret"
        elif len(self.secret) < SECRET_MIN_CHARS:
            got = f"{len(self.secret)} characters"
        else:
            return self.secret
        raise ConfigurationError(
            f"LINEWISE_SECRET: secret must be a random value of at least {SECRET_MIN_CHARS} characters in "
            "production mode (python -c 'import secrets; print(secrets.token_urlsafe(48))'); "
            f"got {got}"
        )

    def check_bounds(self) -> None:
        """Raise ConfigurationError for a token life, login or request limit or check interval outside its bounds."""
        bounds: tuple[tuple[str, float, float, float], ...] = (
            # An activation is followed within an hour at the latest (0: at every request).
            ("LINEWISE_DECIDER_CHECK_SECONDS", self.decider_check_seconds, 0, 3600),
            ("LINEWISE_TOKEN_MINUTES", self.token_minutes, 1, 24 * 60),
            ("LINEWISE_LOGIN_FAILURES_MAX", self.login_failures_max, 1, 100),
            ("LINEWISE_LOGIN_WINDOW_SECONDS", self.login_window_seconds, 1, 24 * 3600),
            ("LINEWISE_REQUEST_ATTEMPTS_MAX", self.request_attempts_max, 1, 100),
            ("LINEWISE_REQUEST_WINDOW_SECONDS", self.request_window_seconds, 1, 31 * 24 * 3600),
        )
        for name, value, low, high in bounds:
            if not low <= value <= high:
                raise ConfigurationError(f"{name}: value must be from {low} to {high}; got {value!r}")
