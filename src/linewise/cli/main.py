"""The `linewise` command."""

from __future__ import annotations

import logging

import typer

from linewise.cli import (
    bureau,
    customer,
    data,
    decisions,
    demo,
    experiment,
    ledger,
    model,
    monitor,
    optimise,
    postloan,
    report,
    review,
    serve,
    simulate,
    strategy,
    user,
)
from linewise.cli._common import STATE
from linewise.cli._usage import OneLineErrorsGroup

app = typer.Typer(
    name="linewise",
    cls=OneLineErrorsGroup,
    help="Credit-line management for revolving consumer credit.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def main(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks instead of one-line errors."),
) -> None:
    """Credit-line management for revolving consumer credit."""
    STATE["debug"] = debug
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING)


app.add_typer(ledger.db_app, name="db")
app.add_typer(ledger.line_app, name="line")
app.add_typer(ledger.panel_app, name="panel")
app.add_typer(customer.customer_app, name="customer")
app.add_typer(data.data_app, name="data")
app.add_typer(model.model_app, name="model")
app.add_typer(strategy.strategy_app, name="strategy")
app.add_typer(decisions.decisions_app, name="decisions")
app.add_typer(bureau.bureau_app, name="bureau")
app.add_typer(user.user_app, name="user")
app.add_typer(experiment.experiment_app, name="experiment")
app.command("draw")(ledger.draw)
app.command("repay")(ledger.repay)
app.command("statement")(ledger.statement_command)
app.command("demo")(demo.demo)
app.command("review")(review.review)
app.command("explain")(review.explain)
app.command("decide")(review.decide_command)
app.command("preview")(review.preview_command)
app.command("serve")(serve.serve)
app.command("simulate")(simulate.simulate_command)
app.command("monitor")(monitor.monitor_command)
app.command("postloan")(postloan.postloan_command)
app.command("optimise")(optimise.optimise_command)
app.command("report")(report.report_command)


if __name__ == "__main__":  # pragma: no cover
    app()
