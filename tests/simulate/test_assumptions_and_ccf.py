"""The assumptions file refuses what it cannot use; the CCF is read off the defaulters."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from linewise.errors import SchemaMismatchError
from linewise.simulate.assumptions import Assumptions, read_assumptions
from linewise.simulate.estimates import MIN_DEFAULTERS, estimate_ccf


def test_a_file_sets_what_it_names_and_leaves_the_rest_at_the_defaults():
    read = read_assumptions("lgd: 0.6\napr: 0.24\n", "a.yaml")

    assert (read.lgd, read.apr) == (0.6, 0.24)
    assert read.horizon_months == Assumptions().horizon_months


def test_every_wrong_field_is_named_with_its_line():
    text = "apr: 0.2\nlgd: 1.5\nhorizn_months: 12\nresponse_share: [0.3, 0.1]\n"
    with pytest.raises(SchemaMismatchError) as caught:
        read_assumptions(text, "a.yaml")

    shown = str(caught.value)
    assert "a.yaml:2: lgd must be less than or equal to 1; got 1.5" in shown
    assert "a.yaml:3: horizn_months must be a field of the assumptions format (is it misspelt?)" in shown
    assert "a.yaml:4: response_share must be shares between 0 and 1 that never fall" in shown
    assert caught.value.code == "schema_mismatch"


def test_broken_yaml_is_refused_with_its_line():
    with pytest.raises(SchemaMismatchError, match=r"a.yaml:2: file must be valid YAML; got 'mapping values"):
        read_assumptions("apr: 0.2\nlgd: 0.5: 0.6\n", "a.yaml")


def _book(defaulters: int, drawn_share: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Lines that default after drawing ``drawn_share`` of what they had left, and lines that do not."""
    rows, outcomes = [], []
    for index in range(defaulters * 2):
        account = f"A{index:04d}"
        bad = index < defaulters
        room = 10_000 + 1_000 * (index % 7)
        rows.append((account, pd.Timestamp("2025-03-31"), 20_000, 20_000 - room))
        last = 20_000 - room + (round(drawn_share * room) if bad else 0)
        rows.append((account, pd.Timestamp("2025-06-30"), 20_000, last))
        outcomes.append((account, pd.Timestamp("2025-06-30"), 1, bad))
    panel = pd.DataFrame(rows, columns=["account_id", "month", "credit_limit", "balance"])
    return panel, pd.DataFrame(outcomes, columns=["account_id", "as_of", "horizon_months", "default"])


def test_the_ccf_is_the_share_of_the_room_the_defaulters_drew():
    panel, outcomes = _book(200, 0.4)

    estimate = estimate_ccf(panel, outcomes, date(2025, 6, 30))

    assert estimate is not None
    assert estimate.value == pytest.approx(0.4, abs=1e-3)
    assert estimate.count == 200
    assert estimate.low <= estimate.value <= estimate.high


def test_too_few_defaulters_give_no_estimate():
    panel, outcomes = _book(MIN_DEFAULTERS - 1, 0.4)

    assert estimate_ccf(panel, outcomes, date(2025, 6, 30)) is None
    assert estimate_ccf(panel, None, date(2025, 6, 30)) is None


def test_the_example_assumptions_file_states_the_defaults():
    example = Path(__file__).resolve().parents[2] / "examples" / "assumptions.yaml"

    assert read_assumptions(example.read_text(encoding="utf-8"), str(example)) == Assumptions()
