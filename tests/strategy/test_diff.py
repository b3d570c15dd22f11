"""`strategy diff`: what changed between two strategies, one sentence per change."""

from __future__ import annotations

import json

from tests.inprocess import run_linewise
from tests.strategy.texts import DEFAULT, edited

from linewise.strategy import read_strategy
from linewise.strategy.diff import describe_changes


def spec_of(text: str):
    return read_strategy(text).spec


def test_a_strategy_has_no_changes_from_itself_even_with_another_description():
    other = edited(("description: Sound-practice", "description: Reworded"))
    assert describe_changes(spec_of(DEFAULT), spec_of(other)) == []


def test_each_changed_setting_is_one_sentence_naming_it_with_both_values():
    new = edited(("  cooldown_days: 90", "  cooldown_days: 60"), ("{name: B, pd_max: 0.12}", "{name: B, pd_max: 0.10}"))
    changes = describe_changes(spec_of(DEFAULT), spec_of(new))
    assert changes == ["grades[B].pd_max: 0.12 → 0.1 (lowered)", "increase.cooldown_days: 90 → 60 (lowered)"]


def test_an_added_gate_is_told_as_added_and_the_gates_after_it_as_unchanged():
    new = edited(
        (
            '    - {feature: months_on_book, op: ">=", value: 5}\n',
            '    - {feature: debt_to_income, op: "<=", value: 0.6, if_missing: pass}\n'
            '    - {feature: months_on_book, op: ">=", value: 5}\n',
        )
    )
    changes = describe_changes(spec_of(DEFAULT), spec_of(new))
    assert len(changes) == 1
    assert changes[0].startswith("increase.gates: debt_to_income <= added")


def test_moving_a_segment_is_told_as_a_new_order():
    new = edited(
        (
            "  - name: income_verified\n    description: Customers whose monthly income has "
            "been verified.\n    when: [{feature: income_verified_monthly, op: present}]\n",
            "",
        ),
        (
            "    ceiling: 300000\n",
            "    ceiling: 300000\n  - name: income_verified\n"
            "    when: [{feature: income_verified_monthly, op: present}]\n",
        ),
    )
    changes = describe_changes(spec_of(DEFAULT), spec_of(new))
    assert any(c.startswith("segments: order new, income_verified, thin_file") for c in changes)


def test_the_cli_diff_prints_the_changes_and_checks_both_files(tmp_path):
    (tmp_path / "a.yaml").write_text(DEFAULT, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(
        edited(("version: 1", "version: 2"), ("step_pct_max: 50", "step_pct_max: 30")), encoding="utf-8"
    )
    (tmp_path / "bad.yaml").write_text(edited(("step_pct_max: 50", "step_pct_max: fifty")), encoding="utf-8")

    def run(*args):
        return run_linewise("strategy", "diff", *args, cwd=tmp_path)

    shown = run("a.yaml", "b.yaml")
    assert shown.returncode == 0, shown.stderr
    assert "default@1 → default@2: 2 changes" in shown.stdout
    assert "increase.step_pct_max: 50.0 → 30.0 (lowered)" in shown.stdout
    as_json = json.loads(run("a.yaml", "b.yaml", "--json").stdout)
    assert as_json["new"] == "default@2" and len(as_json["changes"]) == 2
    refused = run("a.yaml", "bad.yaml")
    assert refused.returncode == 2
    assert "bad.yaml:" in refused.stderr and "step_pct_max" in refused.stderr
