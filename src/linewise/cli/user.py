"""`linewise user add`: a user of the service, its role and, for a customer, the customer it is."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import typer

from linewise.cli._common import console, emit, engine, user_errors
from linewise.errors import InputError

user_app = typer.Typer(
    help="Users of the service (linewise serve): who may sign in, and as what.", no_args_is_help=True
)

# What `linewise user add` is recorded as in the audit log.
CLI_ACTOR = "cli"


def _password(from_stdin: bool) -> str:
    """The password: the first line of standard input, or typed twice at a hidden prompt."""
    if from_stdin:
        text = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    else:
        try:
            text = typer.prompt("password", hide_input=True, confirmation_prompt=True)
        except typer.Abort:
            text = ""
    if not text:
        raise InputError.for_field(
            "password_required",
            where="password",
            field="password",
            rule="given at the prompt, or as the first line of standard input with --password-stdin",
            value="",
        )
    return text


@user_app.command("add")
def user_add(
    username: str = typer.Argument(..., help="The name to sign in with (letters, digits, '.', '_', ':' or '-')."),
    role: str = typer.Option(..., "--role", help="customer (its own lines only), analyst or admin."),
    customer: str | None = typer.Option(None, "--customer", help="For a customer: its customer id in the ledger."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of standard input, not a prompt."
    ),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Add a user of the service; the password is hashed (argon2) and never stored itself."""
    from linewise.inputs import parse_id
    from linewise.ledger.store import read_snapshot
    from linewise.ledger.store.customers import customer_accounts
    from linewise.ledger.store.users import NewUser, add_user, check_role
    from linewise.service.passwords import check_password, hash_password

    with user_errors():
        check_role(role, customer, "--role")
        eng = engine()
        if customer is not None:  # before the password is asked for (add_user checks again as it writes)
            with read_snapshot(eng) as conn:
                customer_accounts(conn, parse_id(customer, "--customer"))
        password = check_password(_password(password_stdin))
        new = NewUser(username=username, role=role, password_hash=hash_password(password), customer_id=customer)
        user = add_user(eng, new, actor=CLI_ACTOR, now=datetime.now(UTC))
    payload = {"username": user.username, "role": user.role, "customer_id": user.customer_id}
    whose = f" (customer {user.customer_id})" if user.customer_id else ""
    emit(as_json, payload, lambda: console.print(f"added user {user.username}: {user.role}{whose}"))
