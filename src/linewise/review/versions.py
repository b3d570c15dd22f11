"""Strategy and model versions: stored once checked, listed, compared, activated.

What every caller shares (the ``linewise strategy``/``model`` commands and the
service's routes): a strategy is stored only when it is valid, a model only when it
loads, and a version is activated only by an admin user, when it was stored, loads,
and is made for the currency of the other kind's active version. The store
(:mod:`linewise.ledger.store.versions`) keeps the rule that a ref means one content
and writes each activation with its audit row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, Engine

from linewise.errors import InputError, StrategyValidationError
from linewise.ledger.store.unit_of_work import UnitOfWork, read_snapshot
from linewise.ledger.store.versions import (
    Activation,
    ModelFiles,
    StoredVersion,
    active,
    check_activator,
    check_note,
    check_ref,
    latest_activations,
    list_versions,
    read_model_files,
    read_strategy_text,
    read_strategy_texts,
    record_activation,
    store_model,
    store_strategy,
    stored_version,
)
from linewise.money import currency_exponent
from linewise.textfiles import read_text

__all__ = [
    "MODEL_FILE_MAX_BYTES",
    "StrategyDiff",
    "VersionEntry",
    "VersionList",
    "activate_version",
    "diff_stored_strategies",
    "list_stored",
    "read_model_dir",
    "store_model_dir",
    "store_strategy_text",
]

# Each file of a model directory is read within this, as load_model reads them: a
# scorecard of a few hundred features, or a LightGBM model text, is well under it.
MODEL_FILE_MAX_BYTES = 50_000_000


@dataclass(frozen=True)
class VersionEntry:
    """A stored version, its currency, its latest activation and whether it is the active one."""

    version: StoredVersion
    currency: str | None
    last_activation: Activation | None
    is_active: bool


@dataclass(frozen=True)
class VersionList:
    """A page of the stored versions of a kind (newest first), how many there are, and the active one."""

    kind: str
    items: list[VersionEntry]
    total: int
    active: Activation | None


@dataclass(frozen=True)
class StrategyDiff:
    """What changed from one stored strategy to another, one sentence a change (as ``strategy diff`` says)."""

    old: str
    new: str
    changes: list[str]


# --- storing ---------------------------------------------------------------------------------


def store_strategy_text(
    engine: Engine, text: str, *, source: str, by: str, now: datetime
) -> tuple[StoredVersion, bool]:
    """Check ``text`` as ``strategy validate`` does, then store it; the version, and whether this call stored it.

    Raises StrategyValidationError listing every problem with its line (``source``
    names the text in them), ``strategy_ref_reused`` when its ref is stored with
    another text. Nothing is written on any error.
    """
    from linewise.strategy import read_strategy

    loaded = read_strategy(text, source)
    return store_strategy(engine, ref=loaded.spec.ref, text=text, by=by, now=now)


def read_model_dir(directory: Path, *, currency: str | None = None) -> ModelFiles:
    """The model in ``directory``, checked to load, with every file its manifest lists, as text.

    ``currency`` is the model's when its manifest names none (``currency_mismatch``
    when the manifest names another). Raises the loader's errors for a directory that
    is not a model's, ``model_invalid`` for a manifest whose file list is not one, and
    the file reader's codes (``file_not_found``, ...) for a listed file it cannot read.
    """
    from linewise.models.artifacts import MANIFEST_FILE, load_model
    from linewise.review.deciders import is_model_file_name

    _, manifest = load_model(directory)
    stated = manifest.get("currency")
    if currency is not None:
        currency_exponent(currency)
        if stated is not None and stated != currency:
            raise InputError.for_field(
                "currency_mismatch",
                where="--currency",
                field="--currency",
                rule=f"the currency the manifest of {directory} names, {stated}",
                value=currency,
            )
    listed = manifest.get("files")
    if not isinstance(listed, list) or not all(isinstance(name, str) and is_model_file_name(name) for name in listed):
        raise InputError.for_field(
            "model_invalid",
            where=str(directory / MANIFEST_FILE),
            field="files",
            rule="a list of the model's file names, as `linewise model train` writes it",
            value=listed,
        )
    files = {name: read_text(directory / name, max_bytes=MODEL_FILE_MAX_BYTES) for name in [MANIFEST_FILE, *listed]}
    return ModelFiles(
        ref=check_ref(str(manifest["model"]), f"{directory / MANIFEST_FILE} model"),
        model_kind=str(manifest["kind"]),
        currency=stated if stated is not None else currency,
        files=files,
    )


def store_model_dir(
    engine: Engine, directory: Path, *, currency: str | None = None, by: str, now: datetime
) -> tuple[StoredVersion, bool]:
    """Store the model in ``directory`` (see :func:`read_model_dir`); the version, and whether this call stored it.

    Raises ``model_ref_reused`` when its ref is stored with other files; nothing is
    written on any error.
    """
    return store_model(engine, read_model_dir(directory, currency=currency), by=by, now=now)


# --- activating ------------------------------------------------------------------------------


def activate_version(engine: Engine, kind: str, ref: str, *, by: str, note: str | None, now: datetime) -> Activation:
    """Make the stored ``ref`` the active version of ``kind``, audited; the activation.

    Refuses, writing nothing: ``admin_required`` unless ``by`` is an admin user;
    ``ref_malformed``, ``version_not_found`` for a ref never stored; ``note_malformed``;
    a stored strategy no longer valid or a stored model that does not load (their
    loaders' codes); ``currency_mismatch``, naming both, when the other kind's active
    version is made for another currency.
    """
    check_ref(ref, "ref")
    check_note(note, "note")
    with read_snapshot(engine) as conn:
        check_activator(conn, by, "by")
        currency = _checked_currency(conn, kind, ref)
    with UnitOfWork(engine) as uow:
        # The other kind may have been activated since: its currency is read again here.
        _check_pair(uow.conn, kind, ref, currency)
        activation = record_activation(uow.conn, kind, ref, by=by, note=note, at=now)
        uow.commit()
    return activation


def _checked_currency(conn: Connection, kind: str, ref: str) -> str | None:
    """The currency of the stored version, once it is checked to make a decider (strategy valid, model built)."""
    from linewise.review.deciders import model_from_stored

    if kind == "strategy":
        _, text = read_strategy_text(conn, ref)
        return _strategy_currency(ref, text)
    version, files = read_model_files(conn, ref)
    model_from_stored(ref, files)
    return version.currency


def _strategy_currency(ref: str, text: str) -> str:
    from linewise.strategy import read_strategy

    return read_strategy(text, f"stored strategy {ref}").spec.currency


def _check_pair(conn: Connection, kind: str, ref: str, currency: str | None) -> None:
    other_kind = "model" if kind == "strategy" else "strategy"
    other = active(conn, other_kind)
    if other is None or currency is None:
        return
    if other_kind == "model":
        other_currency = stored_version(conn, "model", other.ref).currency
    else:
        other_currency = _strategy_currency(other.ref, read_strategy_text(conn, other.ref)[1])
    if other_currency is not None and other_currency != currency:
        raise InputError.for_field(
            "currency_mismatch",
            where=f"{kind} {ref}",
            field="currency",
            rule=f"the currency of the active {other_kind} {other.ref}, {other_currency}",
            value=currency,
        )


# --- reading ---------------------------------------------------------------------------------


def list_stored(engine: Engine, kind: str, *, limit: int, offset: int) -> VersionList:
    """A page of the stored versions of ``kind``, newest first, each with its currency and latest activation."""
    with read_snapshot(engine) as conn:
        versions, total = list_versions(conn, kind, limit=limit, offset=offset)
        refs = [version.ref for version in versions]
        activations = latest_activations(conn, kind, refs)
        now_active = active(conn, kind)
        texts = read_strategy_texts(conn, refs) if kind == "strategy" else {}
    items = [
        VersionEntry(
            version=version,
            currency=_listed_currency(version, texts.get(version.ref)),
            last_activation=activations.get(version.ref),
            is_active=now_active is not None and now_active.ref == version.ref,
        )
        for version in versions
    ]
    return VersionList(kind=kind, items=items, total=total, active=now_active)


def _listed_currency(version: StoredVersion, text: str | None) -> str | None:
    if text is None:
        return version.currency
    try:
        return _strategy_currency(version.ref, text)
    except StrategyValidationError:  # stored by an older linewise; activating it says why
        return None


def diff_stored_strategies(engine: Engine, old: str, new: str) -> StrategyDiff:
    """What changed from the stored strategy ``old`` to ``new``, as ``linewise strategy diff`` says it.

    Raises ``ref_malformed``, ``version_not_found``, and StrategyValidationError for a
    stored text the strategy format no longer takes.
    """
    from linewise.strategy import read_strategy
    from linewise.strategy.diff import describe_changes

    check_ref(old, "old")
    check_ref(new, "new")
    with read_snapshot(engine) as conn:
        before, after = read_strategy_text(conn, old)[1], read_strategy_text(conn, new)[1]
    changes = describe_changes(
        read_strategy(before, f"stored strategy {old}").spec, read_strategy(after, f"stored strategy {new}").spec
    )
    return StrategyDiff(old=old, new=new, changes=changes)
