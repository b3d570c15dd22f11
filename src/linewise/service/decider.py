"""The model and strategy the service decides with, loaded once when the app is made."""

from __future__ import annotations

from pathlib import Path

from linewise.errors import ConfigurationError
from linewise.models.artifacts import load_model
from linewise.review.run import Decider
from linewise.strategy import default_strategy_text, read_strategy, read_strategy_file
from linewise.strategy.compiled import compile_strategy

__all__ = ["load_decider"]


def load_decider(model_dir: Path | None, strategy_file: Path | None) -> Decider:
    """The model in ``model_dir`` and the strategy file (the shipped one when None), as ``linewise decide`` loads them.

    Raises ConfigurationError when no model directory is set or the model and the
    strategy are made for different currencies, and the loaders' InputErrors for
    files that are missing or invalid.
    """
    if model_dir is None:
        raise ConfigurationError(
            "LINEWISE_MODEL_DIR: model_dir must be a model directory (linewise model train); got nothing"
        )
    strategy = compile_strategy(
        read_strategy_file(strategy_file) if strategy_file else read_strategy(default_strategy_text())
    )
    model, manifest = load_model(model_dir)
    currency = manifest.get("currency")
    if currency is not None and currency != strategy.loaded.spec.currency:
        raise ConfigurationError(
            f"{strategy_file or 'default strategy'}: currency must be the model's {currency} "
            f"({model_dir}); got {strategy.loaded.spec.currency!r}"
        )
    return Decider(
        model=model,
        model_ref=str(manifest["model"]),
        strategy=strategy,
        model_source=str(model_dir),
        strategy_source=str(strategy_file or "default strategy"),
        model_currency=currency,
    )
