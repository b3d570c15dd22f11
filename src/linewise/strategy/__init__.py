"""Strategy: the versioned file of limit rules, its checks and its vectorised evaluation."""

from linewise.strategy.loader import (
    LoadedSpec,
    default_strategy_text,
    read_strategy,
    read_strategy_file,
)
from linewise.strategy.spec import StrategySpec

__all__ = [
    "LoadedSpec",
    "StrategySpec",
    "default_strategy_text",
    "read_strategy",
    "read_strategy_file",
]
