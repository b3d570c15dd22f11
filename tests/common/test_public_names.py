"""Sweeps over every module: each name in ``__all__`` exists."""

import importlib
import pkgutil

import pytest

import linewise

MODULES = sorted(m.name for m in pkgutil.walk_packages(linewise.__path__, "linewise.") if ".migrations" not in m.name)


@pytest.mark.parametrize("name", MODULES)
def test_every_name_in_all_exists(name):
    module = importlib.import_module(name)
    for public in getattr(module, "__all__", []):
        assert hasattr(module, public), f"{name}.__all__ names missing {public}"


def test_the_sweep_sees_the_ledger():
    assert "linewise.ledger.posting" in MODULES
