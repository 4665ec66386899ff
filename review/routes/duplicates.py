"""Merging a duplicate referral into the one kept (officers), confirmed first; undone by admins."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from review.auth import SignedIn, require
from review.render import flash, page
from review.routes import DbEngine, Now, referral_or_404, see_flash
from storage import duplicates, users
from storage.audit import record_event
from storage.db import session_scope
from storage.duplicates import Input, MergeError, Plan
from storage.tables import Referral
from storage.workflow import WorkflowError, by_reference

router = APIRouter()

MAX_REASON = 4000
MAX_REFERENCE = 40
# The referral page shows the undo form's error beside its input (request.state key).
UNDO_ERRORS = "merge_undo_errors"


class Keep(StrEnum):
    """Which of the two referrals is kept: the one whose page the officer came from, or the
    other (this one is then the duplicate)."""

    THIS = "this"
    OTHER = "other"


@dataclass(frozen=True)
class MergeView:
    """What the referral page says about merges: merged into another, or others into it."""

    into: str | None = None  # the reference this one was merged into
    at: datetime | None = None
    by: str | None = None
    merged_from: list[str] = field(default_factory=list)
    refused: str | None = None  # why an admin cannot undo it
    errors: dict[str, str] = field(default_factory=dict)


def merge_view(db: Session, referral: Referral, request: Request) -> MergeView:
    """The referral page's merge card, as it stands."""
    assert referral.id is not None
    merged_from = [r.reference for r in duplicates.merged_into(db, referral.id)]
    errors: dict[str, str] = getattr(request.state, UNDO_ERRORS, {})
    record = duplicates.merge_of(db, referral)
    if record is None:
        return MergeView(merged_from=merged_from, errors=errors)
    kept = db.get(Referral, record.kept_id)
    return MergeView(
        into=kept.reference if kept is not None else None,
        at=record.merged_at,
        by=record.merged_by,
        merged_from=merged_from,
        refused=duplicates.undo_refused(db, referral),
        errors=errors,
    )


def _pair(this: Referral, other: Referral, keep: Keep) -> tuple[Referral, Referral]:
    return (this, other) if keep is Keep.THIS else (other, this)


def _other(db: Session, typed: str) -> Referral:
    """The referral a typed reference names, or MergeError on the reference input."""
    wanted = " ".join(typed.split()).upper()
    if not wanted:
        raise MergeError({Input.OTHER: "Enter the other referral’s reference, like SIRG-2026-0042"})
    found = by_reference(db, wanted)
    if found is None:
        raise MergeError({Input.OTHER: f"There is no referral {wanted}: check the reference"})
    return found


def _form(
    request: Request,
    this: Referral,
    *,
    other: str,
    keep: Keep,
    planned: Plan | None = None,
    reason: str = "",
    errors: dict[Input, str] | None = None,
) -> HTMLResponse:
    """The merge page: choose the other referral, or confirm what the merge will do."""
    said = {str(k): v for k, v in (errors or {}).items()}
    return page(
        request,
        "merge.html",
        400 if said else 200,
        r=this,
        other=other,
        keep=keep,
        plan=planned,
        reason=reason,
        errors=said,
    )


@router.get("/referrals/{reference}/merge", response_class=HTMLResponse)
def merge_form(
    request: Request,
    reference: str,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.OFFICER)],
    other: Annotated[str | None, Query(max_length=MAX_REFERENCE)] = None,
    keep: Keep = Keep.THIS,
) -> HTMLResponse:
    """Which referral to merge with this one, then both side by side for confirmation."""
    with session_scope(engine) as db:
        this = referral_or_404(db, reference)
        assert this.id is not None
        if other is None:  # not asked yet: the empty form
            return _form(request, this, other="", keep=keep)
        try:
            found = _other(db, other)
            kept, duplicate = _pair(this, found, keep)
            planned = duplicates.plan(db, kept, duplicate)
        except MergeError as exc:
            return _form(request, this, other=other, keep=keep, errors=exc.errors)
        for r in (kept, duplicate):
            assert r.id is not None
            record_event(db, user.name, "referral", r.id, "viewed", now, "to merge")
    return _form(request, this, other=found.reference, keep=keep, planned=planned)


@router.post("/referrals/{reference}/merge", response_class=HTMLResponse)
def merge(
    request: Request,
    reference: str,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.OFFICER)],
    other: Annotated[str, Form(max_length=MAX_REFERENCE)] = "",
    keep: Annotated[Keep, Form()] = Keep.THIS,
    reason: Annotated[str, Form(max_length=MAX_REASON)] = "",
) -> Response:
    """Merge the duplicate into the kept referral, as confirmed."""
    with session_scope(engine) as db:
        this = referral_or_404(db, reference)
        try:
            found = _other(db, other)
        except MergeError as exc:
            return _form(request, this, other=other, keep=keep, errors=exc.errors)
        kept, duplicate = _pair(this, found, keep)
        try:
            planned = duplicates.plan(db, kept, duplicate)
        except MergeError as exc:
            return _form(request, this, other=other, keep=keep, errors=exc.errors)
        try:
            duplicates.merge(db, kept, duplicate, user.name, reason, now)
        except MergeError as exc:
            db.rollback()
            return _form(
                request,
                this,
                other=found.reference,
                keep=keep,
                planned=planned,
                reason=reason,
                errors=exc.errors,
            )
        kept_ref, dup_ref = kept.reference, duplicate.reference
    flash(request, f"{dup_ref} was merged into {kept_ref}: the earliest clock is kept.")
    return see_flash(f"/referrals/{kept_ref}")


@router.post("/referrals/{reference}/unmerge")
def unmerge(
    request: Request,
    reference: str,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.ADMIN)],
    reason: Annotated[str, Form(max_length=MAX_REASON)] = "",
) -> Response:
    """Undo a merge, when that is safe (an admin's fix), with the reason."""
    try:
        with session_scope(engine) as db:
            duplicate = referral_or_404(db, reference)
            kept = duplicates.unmerge(db, duplicate, user.name, reason, now)
            kept_ref = kept.reference
    except MergeError as exc:
        from review.routes.referral import referral_page  # the page imports this module

        setattr(request.state, UNDO_ERRORS, {f"undo_{k}": v for k, v in exc.errors.items()})
        response = referral_page(request, reference, engine, now, user)
        response.status_code = 400
        return response
    except WorkflowError as exc:
        text = str(exc)
        flash(request, text[:1].upper() + text[1:] + ".")
        return see_flash(f"/referrals/{reference}")
    flash(request, f"The merge was undone: {reference} is apart from {kept_ref} again.")
    return see_flash(f"/referrals/{reference}")
