"""A referral's conversation: its timeline, the emails and files in it, writing to the
referrer, and linking by hand an email that only mentions the referral."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import Engine
from sqlmodel import Session, select

from notifications.conversation import OfficerMail, officer_email
from parsers.formdef import load_form
from parsers.mime import parse_message
from parsers.thread import body_text, clean_message_id
from review.auth import SignedIn, require
from review.render import flash
from review.routes import (
    DbEngine,
    Now,
    changeable_or_409,
    disposition,
    file_response,
    referral_or_404,
    see_flash,
)
from storage import users
from storage.audit import record_event
from storage.db import session_scope
from storage.messages import attachment_bytes, raw_bytes
from storage.referrals import link_message, open_mandatory
from storage.tables import (
    Attachment,
    InboundMessage,
    LinkEffect,
    LinkHow,
    Referral,
    ReferralMessage,
)
from storage.threads import latest_message_id, mentioning, referrer_address
from storage.timeline import Entry, EntryKind, timeline

router = APIRouter()

MAX_BODY = 20_000  # characters an officer may write in one email


@dataclass
class ConversationView:
    """What the referral page shows of the conversation."""

    entries: list[Entry]
    texts: dict[int, str]  # stored email id -> its own words
    mentions: list[InboundMessage]
    referrer: str | None
    ask_text: str
    missing: list[str] = field(default_factory=list)  # labels of open mandatory answers
    missing_keys: list[str] = field(default_factory=list)  # the same answers' keys


def ask_text(referral: Referral, missing: list[str]) -> str:
    """The editable draft of "Ask for information": the missing answers by their labels."""
    lines = [
        "Hello,",
        "",
        f"Thank you for your referral {referral.reference}. To complete it, please send us:",
        "",
        *(f"  - {label}" for label in missing),
        "",
        "You can reply to this email with the completed form attached, or answer in the text.",
        "",
        "LSCP business support",
    ]
    return "\n".join(lines)


def conversation_view(db: Session, referral: Referral) -> ConversationView:
    """The timeline, newest first, with each email's words; emails only mentioning it."""
    entries = timeline(db, referral)
    texts: dict[int, str] = {}
    for entry in entries:
        if entry.kind == EntryKind.EMAIL_IN and entry.message_id is not None:
            try:
                raw = raw_bytes(db, entry.message_id)
            except LookupError:
                continue
            if raw and referral.purged_at is None:
                texts[entry.message_id] = body_text(parse_message(raw))
    form = load_form(referral.form_id)
    keys = open_mandatory(referral.form_id, referral.record, referral.problems)
    missing = [form.plain_label(k) for k in keys]
    return ConversationView(
        entries=entries,
        texts=texts,
        mentions=mentioning(db, referral.reference),
        referrer=referrer_address(db, referral),
        ask_text=ask_text(referral, missing),
        missing=missing,
        missing_keys=list(keys),
    )


def _linked(db: Session, referral: Referral, message_id: int) -> None:
    """404 unless the email is in this referral's conversation."""
    link = db.exec(
        select(ReferralMessage.id).where(
            ReferralMessage.referral_id == referral.id, ReferralMessage.message_id == message_id
        )
    ).first()
    if link is None:
        raise HTTPException(404, "That email is not part of this referral.")


def eml_response(
    engine: Engine, reference: str, message_id: int | None, actor: str, now: datetime
) -> Response:
    """An email of a referral's conversation exactly as received (.eml), audited;
    `message_id` None: the email the referral was made from."""
    with session_scope(engine) as db:
        referral = referral_or_404(db, reference)
        assert referral.id is not None
        chosen = referral.message_id if message_id is None else message_id
        if message_id is not None:
            _linked(db, referral, message_id)
        try:
            content = raw_bytes(db, chosen)
        except LookupError:
            content = b""
        if not content or referral.purged_at is not None:
            raise HTTPException(404, "The email is not kept (it may have been purged).")
        record_event(
            db, actor, "referral", referral.id, "downloaded email", now, f"message {chosen}"
        )
    name = f"{reference}.eml" if message_id is None else f"{reference}-{message_id}.eml"
    headers = {"Content-Disposition": disposition("attachment", name)}
    return Response(content, media_type="message/rfc822", headers=headers)


@router.get("/referrals/{reference}/messages/{message_id}.eml")
def message_eml(
    reference: str,
    message_id: int,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.VIEWER)],
) -> Response:
    """One email of the conversation, exactly as received."""
    return eml_response(engine, reference, message_id, user.name, now)


@router.get("/referrals/{reference}/files/{attachment_id}")
def message_file(
    reference: str,
    attachment_id: int,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.VIEWER)],
) -> Response:
    """A file attached to an email of the conversation (a chronology, a later form)."""
    with session_scope(engine) as db:
        referral = referral_or_404(db, reference)
        attachment = db.get(Attachment, attachment_id)
        if attachment is None:
            raise HTTPException(404, "There is no such file.")
        _linked(db, referral, attachment.message_id)
        content = attachment_bytes(db, attachment_id)
        if not content or referral.purged_at is not None:
            raise HTTPException(404, "The file is not kept (it may have been purged).")
        assert referral.id is not None
        record_event(
            db,
            user.name,
            "referral",
            referral.id,
            "downloaded file",
            now,
            f"attachment {attachment_id}",
        )
        filename = attachment.filename
    return file_response(content, filename, False)


@router.post("/referrals/{reference}/write")
def write_to_referrer(
    request: Request,
    reference: str,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.OFFICER)],
    body: Annotated[str, Form(max_length=MAX_BODY)],
    kind: Annotated[str, Form(max_length=20)] = "email",
) -> Response:
    """Email the referrer from the referral: through the outbox, threaded, audited.
    The answer carries our Message-ID in In-Reply-To, so it joins this referral."""
    mail_kind = OfficerMail.ASK if kind == "ask" else OfficerMail.EMAIL
    text = body.strip()
    back = f"/referrals/{reference}"
    if not text:
        flash(request, "The email is empty: write what you want to ask or say.")
        return see_flash(back)
    with session_scope(engine) as db:
        referral = referral_or_404(db, reference)
        assert referral.id is not None
        if referral.duplicate_of_id is not None:  # read-only: write from the kept one
            raise HTTPException(409, "This referral was merged into another; write from that one.")
        to_addr = referrer_address(db, referral)
        if referral.purged_at is not None or not to_addr:
            flash(request, "There is no address to write to for this referral.")
            return see_flash(back)
        row = officer_email(
            request.app.state.settings.mail_config,
            referral,
            kind=mail_kind,
            to_addr=to_addr,
            body=text,
            in_reply_to=clean_message_id(latest_message_id(db, referral)),
        )
        db.add(row)
        action = "asked for information" if mail_kind == OfficerMail.ASK else "emailed referrer"
        record_event(db, user.name, "referral", referral.id, action, now, row.header_message_id)
    flash(request, f"Your email to the referrer is on its way ({reference}).")
    return see_flash(f"/referrals/{reference}")


@router.post("/referrals/{reference}/link")
def link_by_hand(
    request: Request,
    reference: str,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.OFFICER)],
    message_id: Annotated[int, Form()],
) -> Response:
    """Join an email that mentions this referral (from someone not on its thread)."""
    with session_scope(engine) as db:
        referral = referral_or_404(db, reference)
        changeable_or_409(referral)
        message = db.get(InboundMessage, message_id)
        if message is None or message.mentions != referral.reference:
            raise HTTPException(404, "That email does not mention this referral.")
        link_message(
            db, referral, message_id, LinkHow.BY_HAND, LinkEffect.FOLLOW_UP, user.name, now
        )
        message.outcome_reason = f"linked by hand to {reference} by {user.name}"
        db.add(message)
        assert referral.id is not None
        record_event(
            db, user.name, "referral", referral.id, "linked by hand", now, f"message {message_id}"
        )
        record_event(db, user.name, "message", message_id, "linked by hand", now, reference)
    flash(request, f"The email is now part of {reference}.")
    return see_flash(f"/referrals/{reference}")
