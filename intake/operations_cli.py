"""Operator commands: outbox, digest, keys, health, retention and the database schema."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from intake.settings import Settings

db_app = typer.Typer(help="Database schema commands.", no_args_is_help=True)
outbox_app = typer.Typer(help="Outgoing email: list, and retry.")


def register(app: typer.Typer) -> None:
    """Add the top-level operator commands to `app`, in the order `intake --help` lists them."""
    app.command()(digest)
    app.command("new-key")(new_key)
    app.command("rotate-key")(rotate_key)
    app.command()(status)
    app.command()(purge)
    app.command()(hold)


@outbox_app.callback(invoke_without_command=True)
def outbox_list(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="pending, sent or dead")] = None,
) -> None:
    """List outgoing emails and their delivery state (no message bodies)."""
    if ctx.invoked_subcommand is not None:
        return
    from intake.wiring import open_database
    from storage.db import session_scope
    from storage.outbox import rows

    engine = open_database(Settings())
    with session_scope(engine) as session:
        # Subjects carry references only, never names (see notifications/), so an
        # operator may see them beside the recipient.
        typer.echo("id\tstatus\tkind\tqueued (UTC)\tto\tsubject\tattempts\tlast error")
        for row in rows(session, status):
            queued = row.created_at.strftime("%Y-%m-%d %H:%M")
            typer.echo(
                f"{row.id}\t{row.status}\t{row.kind}\t{queued}\t{row.to_addr}\t"
                f"{row.subject}\t{row.attempts}\t{row.last_error or ''}"
            )


@outbox_app.command("retry")
def outbox_retry(
    ids: Annotated[list[int], typer.Argument(help="Outbox row ids (see `intake outbox`).")],
) -> None:
    """Put dead or waiting emails back in the queue to be sent on the next pass."""
    from intake.wiring import open_database
    from storage.db import session_scope
    from storage.outbox import requeue

    engine = open_database(Settings())
    with session_scope(engine) as session:
        for row_id in ids:
            typer.echo(f"{row_id}: {requeue(session, row_id)}")


def digest() -> None:
    """Queue and send today's digest to representatives who asked for one."""
    from intake.runner import filing_for
    from intake.wiring import make_transport, open_database
    from notifications.digest import digest_rows
    from notifications.sender import deliver_due
    from parsers.statutory import uk_date
    from storage.clock import utcnow
    from storage.db import session_scope

    settings = Settings()
    engine = open_database(settings)
    filing = filing_for(engine, settings)
    with session_scope(engine) as session:
        rows = digest_rows(session, filing.mail, filing.routing, uk_date(utcnow()))
        session.add_all(rows)
    transport = make_transport(settings)
    report = deliver_due(engine, transport, lease=settings.handover_lease)
    transport.close()
    typer.echo(f"{len(rows)} digests queued; {report.sent} emails sent")


def new_key() -> None:
    """Print a fresh encryption key to put first in INTAKE_ENCRYPTION_KEYS."""
    from storage.crypto import new_key as make_key

    typer.echo(make_key())


def rotate_key() -> None:
    """Re-encrypt stored emails, files and records with the first INTAKE_ENCRYPTION_KEYS key."""
    from intake.wiring import open_database
    from storage.messages import rotate_keys

    engine = open_database(Settings())
    typer.echo(f"{rotate_keys(engine)} stored items re-encrypted with the newest key")


def status(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
    mailbox: Annotated[
        bool, typer.Option("--mailbox/--no-mailbox", help="Also count mail waiting on the server.")
    ] = True,
) -> None:
    """Is the service healthy: database, last poll, waiting mail, outbox, quarantine, token."""
    from intake.wiring import make_source, open_database
    from storage.heartbeat import health_report as health_status

    settings = Settings()
    engine = open_database(settings)
    waiting: int | None = None
    if mailbox:
        source = make_source(settings)
        try:
            waiting = source.count_waiting()
        except Exception as exc:
            typer.echo(f"mailbox: cannot be read ({type(exc).__name__}: {exc})", err=True)
        finally:
            source.close()
    report = health_status(engine, waiting)
    healthy = report["database"] == "ok" and not any(
        w["failing_since"] for w in report.get("workers", [])
    )
    if as_json:
        typer.echo(json.dumps(report))
        raise typer.Exit(0 if healthy else 1)
    typer.echo(f"database: {report['database']}")
    if "outbox" in report:
        typer.echo(f"waiting in the mailbox: {report['waiting_in_mailbox']}")
        typer.echo("outbox: " + ", ".join(f"{k} {v}" for k, v in report["outbox"].items()))
        typer.echo(f"quarantined messages: {report['quarantined']}")
        for worker in report["workers"]:
            typer.echo(
                f"worker {worker['mailbox']}: last pass {worker['last_pass']}, last success "
                f"{worker['last_success']}, failing since {worker['failing_since']} "
                f"({worker['last_error']}), token expires {worker['token_expires']}"
            )
    if not healthy:
        raise typer.Exit(1)


def purge(
    older_than: Annotated[
        int | None, typer.Option(help="Days since closing (default INTAKE_RETENTION_DAYS).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would go.")] = False,
) -> None:
    """Remove personal data of referrals closed longer ago than the retention period.

    The reference, dates, status history and audit trail stay; a referral on legal hold
    is never purged.
    """
    from intake.wiring import open_database
    from storage.retention import due_for_purge, purge_referral

    settings = Settings()
    days = older_than if older_than is not None else settings.retention_days
    if days <= 0:
        typer.echo("intake purge: give --older-than DAYS or set INTAKE_RETENTION_DAYS", err=True)
        raise typer.Exit(2)
    engine = open_database(settings)
    references = due_for_purge(engine, days)
    for reference in references:
        if not dry_run:
            purge_referral(engine, reference)
        typer.echo(f"{reference}: {'would be purged' if dry_run else 'purged'}")
    typer.echo(f"{len(references)} referral(s) {'would be' if dry_run else 'were'} purged")


def hold(
    reference: Annotated[str, typer.Argument(help="Referral reference, e.g. SIRG-2026-0042.")],
    release: Annotated[bool, typer.Option("--release", help="Lift the hold.")] = False,
) -> None:
    """Put a referral on legal hold (never purged) or lift the hold."""
    from intake.wiring import open_database
    from storage.retention import set_legal_hold

    engine = open_database(Settings())
    if not set_legal_hold(engine, reference, not release):
        typer.echo(f"intake hold: no referral {reference}", err=True)
        raise typer.Exit(2)
    typer.echo(f"{reference}: {'hold lifted' if release else 'on legal hold'}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the database schema to the newest migration."""
    from intake.wiring import open_database

    settings = Settings()
    open_database(settings)
    typer.echo(f"database is up to date: {settings.resolved_database_url.split('@')[-1]}")
