"""Any text in any option of the ledger's commands is posted or refused in one line: never a traceback.

Bounded in examples so that it runs in `make test` on SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.ledger.common import snapshot
from tests.strategies import scaled

# Each command with one option left open ({}); the rest is valid for the fixture's A1.
COMMANDS = [
    "repay --account A1 --amount={}",
    "repay --account A1 --amount=10.00 --on={}",
    "repay --account A1 --amount=1.00 --on=2026-01-20 --key={}",
    "line set-limit --account A1 --on=2026-01-20 --limit={}",
    "line freeze --account A1 --on=2026-01-20 --reason={}",
    "line open --customer C --limit=1.00 --on=2026-01-20 --account={}",
    "line open --account N1 --limit=1.00 --on=2026-01-20 --customer={}",
    "line reverse --account A1 --reason r --on=2026-01-20 --event={}",
    "statement --account A1 --as-of={}",
    "line show --account={}",
]

VALUES = st.one_of(
    st.text(max_size=80),
    st.from_regex(r"[0-9.,eE+_ \-\u0660-\u0669]{1,24}", fullmatch=True),
    st.from_regex(r"[0-9]{1,6}-[0-9]{1,3}-[0-9]{1,3}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9\[\]/:._ -]{60,70}", fullmatch=True),
)


@pytest.mark.parametrize("command", COMMANDS)
@settings(
    max_examples=scaled(20),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=VALUES)
def test_any_value_is_taken_or_refused_in_one_line_writing_nothing(line, command, value):
    args = command.split(" ")
    args[-1] = args[-1].format(value)
    before = snapshot(line.engine)
    result = line(*args)
    if result.exit_code == 0:
        return
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and lines[0].endswith("]"), result.stderr
    assert snapshot(line.engine) == before
