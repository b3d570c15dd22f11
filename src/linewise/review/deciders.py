"""The model and strategy decisions are made with: from files, or the database's active versions.

:func:`load_decider` reads a model directory and a strategy file (the commands'
``--model`` and ``--strategy``); :func:`active_decider` takes the strategy and model
activated in the database, each kind falling back to its file when none of it is
active. Either way the model and the strategy must be made for one currency.

The decision core is imported when a decider is made, not when this module is: the
command line imports it for ``--help`` too.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from linewise.errors import ConfigurationError, InputError
from linewise.ledger.store.unit_of_work import read_snapshot
from linewise.ledger.store.versions import (
    Activation,
    StoredVersion,
    active,
    latest_activation_id,
    read_model_files,
    read_strategy_text,
)

if TYPE_CHECKING:
    from linewise.models.base import RiskModel
    from linewise.review.run import Decider
    from linewise.strategy.compiled import Strategy

__all__ = [
    "ActiveDecider",
    "active_decider",
    "check_currencies",
    "is_model_file_name",
    "load_decider",
    "model_from_stored",
]

# A model file's name, as save_model writes them: read from or written into a
# directory, it must name a file in it.
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def is_model_file_name(name: str) -> bool:
    """Whether ``name`` may be a model directory's file: a plain name, no folder, not hidden."""
    return _FILE_NAME.fullmatch(name) is not None


def load_decider(model_dir: Path | None, strategy_file: Path | None) -> Decider:
    """The model in ``model_dir`` and the strategy file (the shipped one when None), checked to fit.

    Raises ConfigurationError when ``model_dir`` is None, ``currency_mismatch`` when
    the model and the strategy are made for different currencies, and the loaders'
    InputErrors for files that are missing or invalid.
    """
    from linewise.review.run import Decider

    strategy = _strategy_file(strategy_file)
    model, manifest = _model_dir(model_dir)
    decider = Decider(
        model=model,
        model_ref=str(manifest["model"]),
        strategy=strategy,
        model_source=str(model_dir),
        strategy_source=_strategy_source(strategy_file),
        model_currency=manifest.get("currency"),
    )
    check_currencies(decider)
    return decider


def _strategy_source(strategy_file: Path | None) -> str:
    return str(strategy_file) if strategy_file else "default strategy"


def _strategy_file(strategy_file: Path | None) -> Strategy:
    from linewise.strategy import default_strategy_text, read_strategy, read_strategy_file
    from linewise.strategy.compiled import compile_strategy

    return compile_strategy(
        read_strategy_file(strategy_file) if strategy_file else read_strategy(default_strategy_text())
    )


def _model_dir(model_dir: Path | None) -> tuple[RiskModel, dict[str, Any]]:
    from linewise.models.artifacts import load_model

    if model_dir is None:
        raise ConfigurationError(
            "LINEWISE_MODEL_DIR: model_dir must be a model directory (linewise model train), or a model must be "
            "active in the database (linewise model activate); got nothing"
        )
    return load_model(model_dir)


def check_currencies(decider: Decider) -> None:
    """Raise ``currency_mismatch``, naming both, unless the model (when it names one) has the strategy's currency."""
    strategy_currency = decider.strategy.loaded.spec.currency
    if decider.model_currency is not None and decider.model_currency != strategy_currency:
        raise InputError.for_field(
            "currency_mismatch",
            where=decider.strategy_source,
            field="currency",
            rule=f"the currency of model {decider.model_ref} ({decider.model_source}), {decider.model_currency}",
            value=strategy_currency,
        )


def model_from_stored(ref: str, files: dict[str, str]) -> tuple[RiskModel, dict[str, Any]]:
    """The model stored as ``ref`` and its manifest, built from its stored files.

    Raises ``model_kind_unknown`` for a kind linewise does not know and
    ``model_invalid`` for files that are not a model's, or are another model's; each
    names the stored version.
    """
    from linewise.models.artifacts import load_model

    # load_model is the one reader of model artefacts, and it holds their checks (a
    # known kind, the files as save_model writes them, the size bounds). The stored
    # files are written to a temporary directory for it rather than read by a second
    # reader that could drift from it; that costs milliseconds, once per activation.
    where = f"stored model {ref}"
    with tempfile.TemporaryDirectory(prefix="linewise-model-") as tmp:
        for name, text in files.items():
            if not is_model_file_name(name):
                raise _invalid(where, "a file name as save_model writes one", name)
            (Path(tmp) / name).write_text(text, encoding="utf-8")
        try:
            model, manifest = load_model(Path(tmp))
        except InputError as exc:  # told of the stored version, not of the directory it passed through
            exc.where, exc.detail = exc.where.replace(tmp, where), exc.detail.replace(tmp, where)
            exc.args = (f"{exc.where}: {exc.detail}",)
            raise
        except Exception as exc:  # noqa: BLE001 - a library's own error on a file it cannot read (LightGBMError)
            raise _invalid(where, "files a model can be built from", f"{type(exc).__name__}: {exc}") from None
    if manifest.get("model") != ref:
        raise _invalid(where, f"the files of model {ref}", manifest.get("model"))
    return model, manifest


def stored_model(engine: Engine, ref: str) -> tuple[RiskModel, dict[str, Any]]:
    """The model stored as ``ref`` (``linewise model store``), built; ``version_not_found`` when it never was."""
    with read_snapshot(engine) as conn:
        _stored, files = read_model_files(conn, ref)
    return model_from_stored(ref, files)


def _invalid(where: str, rule: str, value: object) -> InputError:
    return InputError.for_field("model_invalid", where=where, field="stored files", rule=rule, value=value)


@dataclass(frozen=True)
class ActiveDecider:
    """A decider made from the database, and where each half came from.

    ``strategy`` and ``model`` are the activations they came from (None: from the
    file given, or for the strategy the shipped one, as nothing of the kind is
    active); ``activation_id`` is the latest activation when the database was read.
    """

    decider: Decider
    activation_id: int | None
    strategy: Activation | None
    model: Activation | None

    def describe(self) -> list[str]:
        """One line for the strategy and one for the model: which version, and from where."""
        decider = self.decider
        return [
            _described("strategy", decider.strategy.loaded.spec.ref, self.strategy, decider.strategy_source),
            _described("model", decider.model_ref, self.model, decider.model_source),
        ]


def _described(kind: str, ref: str, activation: Activation | None, source: str) -> str:
    if activation is None:
        return f"{kind} {ref} from {source} (no {kind} is active in the database)"
    return (
        f"{kind} {ref} from the database: activated by {activation.activated_by} "
        f"at {activation.activated_at:%Y-%m-%d %H:%M} UTC (activation {activation.id})"
    )


def active_decider(
    engine: Engine,
    *,
    model_dir: Path | None = None,
    strategy_file: Path | None = None,
    previous: ActiveDecider | None = None,
) -> ActiveDecider:
    """The database's active strategy and model; a kind with none active from its file, as :func:`load_decider`.

    Whatever ``previous`` holds that is still what the database calls for is kept
    rather than built again (a ref means one content; a half made from a file is kept
    as it was read). Raises as :func:`load_decider` does, and as
    :func:`model_from_stored` for a stored model that cannot be built.
    """
    with read_snapshot(engine) as conn:
        latest = latest_activation_id(conn)
        strategy_on, model_on = active(conn, "strategy"), active(conn, "model")
        kept = previous.decider if previous is not None else None
        keep_strategy = previous is not None and _same_source(previous.strategy, strategy_on)
        keep_model = previous is not None and _same_source(previous.model, model_on)
        text = read_strategy_text(conn, strategy_on.ref)[1] if strategy_on and not keep_strategy else None
        stored = read_model_files(conn, model_on.ref) if model_on and not keep_model else None
    if kept is not None and keep_strategy:
        strategy, strategy_source = kept.strategy, kept.strategy_source
    elif strategy_on is not None and text is not None:
        strategy, strategy_source = _stored_strategy(strategy_on.ref, text)
    else:
        strategy, strategy_source = _strategy_file(strategy_file), _strategy_source(strategy_file)
    decider = _with_model(
        strategy,
        strategy_source,
        kept=kept if keep_model else None,
        model_on=model_on,
        stored=stored,
        model_dir=model_dir,
    )
    check_currencies(decider)
    return ActiveDecider(decider, latest, strategy_on, model_on)


def _with_model(
    strategy: Strategy,
    strategy_source: str,
    *,
    kept: Decider | None,
    model_on: Activation | None,
    stored: tuple[StoredVersion, dict[str, str]] | None,
    model_dir: Path | None,
) -> Decider:
    """``strategy`` with the model ``kept`` holds, else the stored one, else the one in ``model_dir``."""
    from linewise.review.run import Decider

    if kept is not None:
        return replace(kept, strategy=strategy, strategy_source=strategy_source)
    if model_on is not None and stored is not None:
        model, _ = model_from_stored(model_on.ref, stored[1])
        return Decider(
            model=model,
            model_ref=model_on.ref,
            strategy=strategy,
            model_source=f"stored model {model_on.ref}",
            strategy_source=strategy_source,
            model_currency=stored[0].currency,
        )
    model, manifest = _model_dir(model_dir)
    return Decider(
        model=model,
        model_ref=str(manifest["model"]),
        strategy=strategy,
        model_source=str(model_dir),
        strategy_source=strategy_source,
        model_currency=manifest.get("currency"),
    )


def _stored_strategy(ref: str, text: str) -> tuple[Strategy, str]:
    from linewise.strategy import read_strategy
    from linewise.strategy.compiled import compile_strategy

    source = f"stored strategy {ref}"
    return compile_strategy(read_strategy(text, source)), source


def _same_source(before: Activation | None, now: Activation | None) -> bool:
    """Whether a half made from ``before`` is the half ``now`` calls for: the same stored ref, or the same file."""
    if before is None or now is None:
        return before is None and now is None
    return before.ref == now.ref
