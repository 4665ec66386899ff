"""The `intake` command line (Typer). Every command has --help."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlmodel import col, func, select
from typer.core import TyperGroup

from intake.operations_cli import db_app, outbox_app
from intake.operations_cli import register as register_operations
from intake.referrals_cli import referrals_app
from intake.settings import Settings, settings_table
from intake.startup import failure_line, private_files
from intake.users_cli import users_app

SAMPLE_ROUTING = Path(__file__).resolve().parent.parent / "samples" / "routing.toml"


class _Commands(TyperGroup):
    """Every command; a start that cannot go on ends with one line and exit code 1."""

    # Any: typer's Context comes from the click it bundles, which mypy sees apart from click's.
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            line = failure_line(exc, _data_dir())
            if line is None:
                raise
            typer.echo(f"intake: {line}", err=True)
            raise typer.Exit(1) from None


def _data_dir() -> Path | None:
    try:
        return Settings().data_dir
    except Exception:  # the settings themselves are what failed
        return None


app = typer.Typer(
    help="LSCP SIRG referral intake: mailbox to validated referrals.",
    no_args_is_help=True,
    cls=_Commands,
)
app.add_typer(db_app, name="db")
app.add_typer(outbox_app, name="outbox")
app.add_typer(users_app, name="users")
app.add_typer(referrals_app, name="referrals")


@app.callback()
def _start(ctx: typer.Context) -> None:
    # Before any command makes a file: the worker, the review server and every other
    # command create the database, its -wal/-shm, mail and keys private to their user.
    previous = private_files()
    # Put back when the command ends: harmless for a process that then exits, and it keeps
    # the umask of a program (or test) that runs commands in-process.
    ctx.call_on_close(lambda: os.umask(previous))


def _logging(verbose: bool) -> None:
    from intake.logsetup import configure

    settings = Settings()
    configure("DEBUG" if verbose else settings.log_level, settings.log_format)


@app.command()
def run(
    once: Annotated[
        bool, typer.Option("--once", help="Process what is waiting, then exit.")
    ] = False,
    interval: Annotated[
        float | None, typer.Option(help="Seconds between polls (default: INTAKE_POLL_INTERVAL).")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
) -> None:
    """Read the referral mailbox, store and acknowledge referrals."""
    from intake.daemon import Worker
    from intake.health import after_pass, mailbox_name
    from intake.lock import AlreadyRunning, MailboxLock
    from intake.runner import filing_for, run_once
    from intake.sources.imap_connect import SourceError
    from intake.wiring import make_source, make_transport, open_database
    from notifications.routing import RoutingError, load_routing
    from notifications.sender import deliver_due
    from storage.db import Durability

    _logging(verbose)
    settings = Settings()
    try:
        load_routing(settings.routing_file)  # a broken routing file stops us here, not later
        with MailboxLock(settings.data_dir, mailbox_name(settings)):
            if not once:
                worker = Worker(settings, interval or settings.poll_interval)
                worker.install_signals()
                worker.run()
                return
            engine = open_database(settings, Durability.AT_BARRIERS)
            mail = filing_for(engine, settings).mail
            source = make_source(settings)
            transport = make_transport(settings)
            try:
                report = run_once(engine, settings, source, transport)
            except Exception as exc:
                after_pass(engine, settings, mail, exc)
                deliver_due(
                    engine, transport, lease=settings.handover_lease
                )  # the operator's alert, if one is due
                transport.close()
                raise
            finally:
                source.close()
            after_pass(engine, settings, mail, None)
    except (AlreadyRunning, RoutingError, SourceError) as exc:
        # Operator-facing problems: one plain line, no traceback.
        typer.echo(f"intake run: {failure_line(exc) or exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(
        f"fetched {report.fetched}, new {report.new}, already stored {report.already_stored}, "
        f"outcomes {report.outcomes}, waiting {report.waiting}, errors {report.errors}, "
        f"mail sent {report.delivery.sent}, retrying {report.delivery.retrying}, "
        f"dead {report.delivery.dead}"
    )
    if report.errors:
        raise typer.Exit(1)


@app.command()
def reprocess(
    ids: Annotated[
        list[int] | None, typer.Argument(help="Message ids; none: all quarantined.")
    ] = None,
) -> None:
    """Run quarantined messages through the pipeline again (after a fix or an upgrade)."""
    from intake.runner import filing_for, process_stored
    from intake.wiring import make_transport, open_database
    from notifications.sender import deliver_due
    from storage import messages
    from storage.db import session_scope
    from storage.tables import InboundMessage

    _logging(False)
    settings = Settings()
    engine = open_database(settings)
    filing = filing_for(engine, settings)
    for message_id in ids or messages.quarantined_ids(engine):
        said = messages.reopen_quarantined(engine, message_id)
        if said == "reopened":
            with session_scope(engine) as session:
                row = session.get(InboundMessage, message_id)
            assert row is not None
            process_stored(filing, settings, row)
            with session_scope(engine) as session:
                row = session.get(InboundMessage, message_id)
            assert row is not None
            said = f"{row.state}: {row.outcome} ({row.outcome_reason})"
        typer.echo(f"{message_id}: {said}")
    transport = make_transport(settings)
    deliver_due(engine, transport, lease=settings.handover_lease)
    transport.close()


@app.command()
def backfill(
    since: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="First day, YYYY-MM-DD.")],
    folder: Annotated[
        str | None, typer.Option(help="IMAP folder (default INTAKE_IMAP_FOLDER).")
    ] = None,
) -> None:
    """Store and parse older mail already in the mailbox, telling nobody and moving nothing."""
    from intake.runner import run_once
    from intake.wiring import make_source, make_transport, open_database

    settings = Settings()
    if folder:
        settings.imap_folder = folder
    engine = open_database(settings)
    source = make_source(settings)
    source.since = since.date()
    try:
        total = source.count_waiting()
        with typer.progressbar(length=total, label="Backfilling") as bar:
            report = run_once(
                engine,
                settings,
                source,
                make_transport(settings),
                backfill=True,
                progress=lambda: bar.update(1),
            )
    finally:
        source.close()
    typer.echo(
        f"{report.fetched} messages: {report.new} new, {report.already_stored} already "
        f"stored, outcomes {report.outcomes}, errors {report.errors}"
    )


@app.command()
def demo() -> None:
    """Run the main job on the sample mailbox with SQLite and a local outbox folder."""
    from intake.demo import seed_maildir
    from intake.runner import run_once
    from intake.sources.maildir import MaildirSource
    from intake.wiring import make_transport, open_database
    from storage.db import session_scope
    from storage.tables import OutboxMessage, Referral

    _logging(False)
    settings = Settings(mail_source="maildir", database_url="", smtp_host="")
    if settings.routing_file is None:
        settings.routing_file = SAMPLE_ROUTING
    seeded = seed_maildir(settings.resolved_maildir)
    engine = open_database(settings)
    report = run_once(
        engine, settings, MaildirSource(settings.resolved_maildir), make_transport(settings)
    )
    with session_scope(engine) as session:
        referrals = session.exec(select(func.count()).select_from(Referral)).one()
        sent = session.exec(
            select(OutboxMessage.kind, func.count())
            .where(OutboxMessage.status == "sent")
            .group_by(OutboxMessage.kind)
        ).all()
        listing = session.exec(select(Referral).order_by(col(Referral.id))).all()
    by_kind = dict(sent)
    replies = sum(n for kind, n in by_kind.items() if kind != "alert")
    typer.echo(f"Seeded {seeded} sample emails into {settings.resolved_maildir}")
    for ref in listing:
        state = "complete" if ref.complete else f"needs info ({len(ref.problems)} gaps)"
        urgency = "URGENT" if ref.urgent else "      "
        agency = ref.referrer_agency or "unknown agency"
        typer.echo(f"  {ref.reference}  {urgency}  {state:<22} from {agency}")
    typer.echo(
        f"This run: {report.new} new, {report.already_stored} already stored, "
        f"outcomes {report.outcomes}, {report.delivery.sent} emails written"
    )
    typer.echo(
        f"Database {settings.resolved_database_url}: {referrals} referrals; in all "
        f"{replies} replies to referrers and {by_kind.get('alert', 0)} alerts to SIRG sent"
    )
    typer.echo(f"Outgoing mail (.eml files): {settings.outbox_mail_dir}")
    typer.echo(
        "To see them in the review queue: make review (adds a demo officer, prints its "
        "password once, and serves the queue at http://127.0.0.1:8000/ on this machine only)"
    )


@app.command("inspect")
def inspect_cmd(
    messages: Annotated[
        list[Path], typer.Argument(help="One or more .eml files.", exists=True, dir_okay=False)
    ],
    as_json: Annotated[bool, typer.Option("--json", help="One line of JSON per email.")] = False,
) -> None:
    """Show the outcome and fields the worker would find in each email (nothing is stored)."""
    from intake.inspect import inspect_message

    settings = Settings()
    for message in messages:
        result = {"message": message.name, **inspect_message(message.read_bytes(), settings)}
        if as_json:
            typer.echo(json.dumps(result, ensure_ascii=False))
            continue
        typer.echo(f"{message.name}: {result['outcome']} ({result['reason']})")
        for item in result.get("attachments", []):
            typer.echo(f"- {item['file']}: {item['outcome']} ({item['reason']})")
        for form in result["forms"]:
            _print_document(form)


def _print_document(doc: dict[str, Any]) -> None:
    typer.echo(f"{doc['file']}: {doc['outcome']} ({doc['reason'] or 'read'})")
    for key, value in doc["fields"].items():
        typer.echo(f"    {key}: {json.dumps(value, ensure_ascii=False)}")
    for label, keys in (("missing", doc["missing"]), ("invalid", doc["invalid"])):
        if keys:
            typer.echo(f"    {label}: {', '.join(keys)}")


@app.command()
def parse(
    files: Annotated[
        list[Path], typer.Argument(help="Form files (.docx or .pdf).", exists=True, dir_okay=False)
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per file, per line.")
    ] = False,
) -> None:
    """Read form files and print each record with its completeness report."""
    from intake.inspect import document_json
    from parsers.documents import read_document

    for path in files:
        result = read_document(path.name, "application/octet-stream", path.read_bytes())
        doc = document_json(str(path), result)
        if as_json:
            typer.echo(json.dumps(doc, ensure_ascii=False))
        else:
            _print_document(doc)


# digest, new-key, rotate-key, status, purge, hold: here, so `--help` keeps its order.
register_operations(app)


@app.command("settings")
def settings_cmd() -> None:
    """Print every setting: environment variable, default and meaning."""
    for name, default, help_text in settings_table():
        typer.echo(f"{name}={default}\t# {help_text}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run the review queue web app (put it behind a TLS proxy in production)."""
    from review.server import serve as serve_review

    serve_review(Settings(), host, port)


def main() -> None:  # pragma: no cover - the console script calls `app`
    """Entry point for `python -m intake.cli`."""
    sys.exit(app())
