"""`intake referrals`: list the referrals (plain or JSON) and show one referral's timeline."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from intake.settings import Settings

if TYPE_CHECKING:  # the database modules are imported when a command runs, as in cli.py
    from sqlmodel import Session

    from storage.tables import Referral
    from storage.timeline import Entry

referrals_app = typer.Typer(help="Referrals: list them, or show one referral's timeline.")


def _one_line(text: str) -> str:
    # A note or subject may hold tabs or line breaks; each entry must stay one line of
    # tab-separated fields so the output can be read by `cut` and `grep`.
    return " ".join(text.split())


def _missing(referral: Referral) -> list[str]:
    from storage.referrals import open_mandatory

    if referral.purged_at is not None:
        # Its record was emptied on purpose; nothing is asked of the referrer any more.
        return []
    return open_mandatory(referral.form_id, referral.record, referral.problems)


def _email_counts(session: Session) -> dict[int, int]:
    """Emails linked to each referral, in one query rather than one per referral."""
    from sqlmodel import col, func, select

    from storage.tables import ReferralMessage

    rows = session.exec(
        select(ReferralMessage.referral_id, func.count()).group_by(col(ReferralMessage.referral_id))
    ).all()
    return {int(referral_id): int(count) for referral_id, count in rows}


def _as_json(session: Session, referral: Referral, references: dict[int, str]) -> dict[str, Any]:
    from storage.threads import message_ids_of

    assert referral.id is not None
    beside = referral.sibling_of
    return {
        "reference": referral.reference,
        "status": referral.status,
        "complete": referral.complete,
        "missing": _missing(referral),
        "message_ids": message_ids_of(session, referral.id),
        "received_at": referral.received_at.isoformat(),
        "version": referral.version,
        "sibling_of": references.get(beside) if beside is not None else None,
        "new_mail": referral.new_mail,
        "purged": referral.purged_at is not None,
    }


def _plain_line(referral: Referral, emails: int) -> str:
    from parsers.statutory import uk_date
    from storage.workflow import status_label

    # No names or other personal data here: this listing may end up in a terminal log.
    if referral.purged_at is not None:
        state = "purged"
    elif referral.complete:
        state = "complete"
    else:
        state = f"{len(_missing(referral))} missing"
    received = uk_date(referral.received_at).isoformat()
    plural = "" if emails == 1 else "s"
    return (
        f"{referral.reference}\t{status_label(referral.status)}\t{state}\t"
        f"received {received}\t{emails} email{plural}"
    )


@referrals_app.callback(invoke_without_command=True)
def referrals_list(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON list, an object per referral.")
    ] = False,
) -> None:
    """List referrals, oldest first: reference, status, what is missing, date, emails."""
    if ctx.invoked_subcommand is not None:
        return
    from sqlmodel import col, select

    from intake.wiring import open_database
    from storage.db import session_scope
    from storage.tables import Referral

    engine = open_database(Settings())
    with session_scope(engine) as session:
        # Oldest by when the LSCP became aware: a referral keyed by hand later from an
        # older email takes its place by that email's arrival, not by its number.
        referrals = session.exec(
            select(Referral).order_by(col(Referral.received_at), col(Referral.id))
        ).all()
        if as_json:
            references = {r.id: r.reference for r in referrals if r.id is not None}
            listed = [_as_json(session, r, references) for r in referrals]
            typer.echo(json.dumps(listed, ensure_ascii=False))
            return
        emails = _email_counts(session)
    for referral in referrals:
        assert referral.id is not None
        typer.echo(_plain_line(referral, emails.get(referral.id, 0)))


def _entry_line(entry: Entry) -> str:
    from parsers.statutory import UK

    # UK time, as the review pages show it, so the two can be compared line by line.
    when = entry.at.astimezone(UK).strftime("%Y-%m-%d %H:%M")
    files = ", ".join(f.filename for f in entry.files)
    return "\t".join(
        (when, _one_line(entry.summary), _one_line(entry.who), _one_line(entry.note), files)
    )


@referrals_app.command("show")
def referrals_show(
    reference: Annotated[str, typer.Argument(help="Referral reference, e.g. SIRG-2026-0042.")],
) -> None:
    """Print a referral's timeline, newest first: emails in and out, status, corrections."""
    from intake.wiring import open_database
    from storage.db import session_scope
    from storage.timeline import timeline
    from storage.workflow import by_reference

    engine = open_database(Settings())
    with session_scope(engine) as session:
        referral = by_reference(session, reference)
        entries = timeline(session, referral) if referral is not None else None
    if entries is None:
        typer.echo(f"intake referrals show: no referral {reference}", err=True)
        raise typer.Exit(1)
    for entry in entries:
        typer.echo(_entry_line(entry))
