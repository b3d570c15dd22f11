"""The catalogue of error codes: every code raised is in it, with a kind; nothing in it is dead."""

from __future__ import annotations

import functools
import re
import shutil
import textwrap

import pytest
from tests.common.codes_raised import SOURCE, Raised, Sweep, sweep

from linewise.errors import ERROR_CODES, ErrorKind, InputError, kind_of


@functools.cache
def swept() -> Sweep:
    """The source's codes, read once a process, when a test first asks (not while collecting)."""
    return sweep()


def _family_pattern(code: str) -> str:
    """A catalogue family ``prefix_<field>`` as the sweep writes an f-string: ``prefix_{}``."""
    return re.sub(r"<[a-z_]+>", "{}", code)


def _catalogued(raised: Raised) -> bool:
    if raised.pattern:
        return any(_family_pattern(code) == raised.code for code in ERROR_CODES)
    try:
        kind_of(raised.code)
    except KeyError:
        return False
    return True


def test_the_sweep_reads_every_code_argument_in_the_source():
    assert swept().unresolved == []


def test_the_sweep_finds_codes_of_every_shape_the_source_raises_them_in():
    codes = {raised.code for raised in swept().raised}
    # a literal, a helper's argument, a class's own code, a default, a dict lookup, an f-string
    for code in (
        "date_after_today",
        "exceeds_available_limit",
        "account_not_found",
        "database_unreachable",
        "line_frozen",
        "option_out_of_range",
        "event_exists_with_different_{}",
    ):
        assert code in codes, code


def test_every_code_raised_is_in_the_catalogue():
    missing = sorted({f"{raised.code} ({raised.where})" for raised in swept().raised if not _catalogued(raised)})
    assert missing == [], "raised but not in linewise.errors.ERROR_CODES:\n" + "\n".join(missing)


def test_every_code_in_the_catalogue_is_raised_somewhere():
    literals = {raised.code for raised in swept().raised if not raised.pattern}
    patterns = {raised.code for raised in swept().raised if raised.pattern}
    dead = sorted(code for code in ERROR_CODES if code not in literals and _family_pattern(code) not in patterns)
    assert dead == [], f"catalogued but never raised: {dead}"


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("account_not_found", 404),
        ("event_exists_with_different_amount", 409),
        ("id_malformed", 422),
        ("exceeds_available_limit", 422),
        ("database_unreachable", 503),
        ("database_not_initialised", 503),
        ("configuration_invalid", 500),
    ],
)
def test_each_kind_maps_to_the_http_status_the_api_answers_with(code, status):
    assert kind_of(code).http_status == status


def test_every_kind_has_codes_and_a_status():
    assert set(ERROR_CODES.values()) == set(ErrorKind)
    for kind in ErrorKind:
        assert kind.http_status in (401, 403, 404, 409, 422, 429, 500, 503)


def test_a_code_outside_the_catalogue_has_no_kind():
    with pytest.raises(KeyError, match="account_unknown"):
        kind_of("account_unknown")
    with pytest.raises(KeyError):
        kind_of("event_exists_with_different_")


def test_the_code_an_error_carries_is_the_one_kind_of_reads():
    error = InputError.for_field("id_malformed", where="--account", field="--account", rule="an id", value=" ")
    assert kind_of(error.code) is ErrorKind.INVALID_INPUT


def test_catalogued_codes_are_snake_case_statements():
    for code in ERROR_CODES:
        assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+|_<[a-z_]+>)+", code), code


# --- the sweep itself, on a small source tree -------------------------------------------------


_SOURCE = """
from linewise.errors import InputError, LinewiseError

class ThingError(InputError):
    def __init__(self, name):
        super().__init__("thing_broken", where=name, detail="x")

class OtherError(LinewiseError):
    code = "other_wrong"

_CODES = {"a": "from_table", **dict.fromkeys(("b", "c"), "from_keys")}

def _reject(code, where):
    return InputError.for_field(code, where=where, field="f", rule="r", value=1)

def check(x, status):
    if x:
        raise _reject("via_helper", "w")
    code = "left_one" if x > 1 else "right_one"
    raise InputError(code, where="w", detail="d") from _reject(_CODES[x], "w") or _reject(f"line_{status}", "w")

def unreadable(x):
    raise InputError(x.upper(), where="w", detail="d")

def told(code_text):
    print(f"w: rule; got 1 [told_in_a_line]")
"""


def test_the_sweep_reads_literals_helpers_branches_tables_attributes_and_patterns(tmp_path):
    (tmp_path / "module.py").write_text(textwrap.dedent(_SOURCE), encoding="utf-8")
    shutil.copy(SOURCE / "errors.py", tmp_path / "errors.py")
    found = sweep(tmp_path)
    codes = {(raised.code, raised.pattern) for raised in found.raised}
    codes -= {
        (raised.code, raised.pattern)
        for raised in sweep(SOURCE).raised
        if raised.where.startswith("linewise/errors.py")
    }
    assert codes == {
        ("thing_broken", False),
        ("other_wrong", False),
        ("via_helper", False),
        ("left_one", False),
        ("right_one", False),
        ("from_table", False),
        ("from_keys", False),
        ("line_{}", True),
        ("told_in_a_line", False),
    }
    assert len(found.unresolved) == 1 and "x.upper()" in found.unresolved[0]
