"""The officer's check of a referral read from a scan, and its scanned pages as images.

The check page is laid out like the keying page (the form's sections, the same inputs),
filled in with what was read; confirming it is the only way out of "Check scan".
Viewers see it read-only; the pages and crops need a sign-in like every other page.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from parsers.formdef import FormDef
from parsers.record import ScanBox
from review.auth import SignedIn, require
from review.keying import Keyed, entry_sections, keyed_record, posted_answers, row_count
from review.record import form_for
from review.render import flash, page
from review.routes import DbEngine, Now, referral_or_404, see_flash
from review.scan_check import check_view, confirm, entered, grid_rows
from review.scan_images import PageUnavailable, crop, page_count, png, upright_page
from storage import users, workflow
from storage.db import session_scope
from storage.scans import pages_for
from storage.tables import Referral
from storage.workflow import WorkflowError, record_event

router = APIRouter()
CONTROLS = ("csrf_token", "grid_rows")  # inputs of the page that are not answers
MAX_ROWS = 60
# The images are the referral's personal data: the browser may keep them for the session's
# pages, never a shared cache.
IMAGE_HEADERS = {"Cache-Control": "private, max-age=600"}


def _render(
    request: Request,
    referral: Referral,
    form: FormDef,
    rows: int,
    pages: int,
    can_work: bool,
    keyed: Keyed | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    sections = entry_sections(form, rows)
    view = check_view(referral, sections)
    return page(
        request,
        "scan_check.html",
        status_code,
        r=referral,
        view=view,
        rows=rows,
        pages=pages,
        mandatory=set(form.mandatory_keys()),
        entered=keyed.entered if keyed else entered(referral, form, sections),
        errors=keyed.errors if keyed else {},
        can_work=can_work,
    )


def _workable(user: SignedIn, referral: Referral) -> bool:
    return (
        user.can(users.OFFICER)
        and referral.status == workflow.CHECK_SCAN
        and referral.purged_at is None
        and referral.duplicate_of_id is None
    )


@router.get("/referrals/{reference}/check", response_class=HTMLResponse)
def check_page(
    request: Request,
    reference: str,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.VIEWER)],
) -> HTMLResponse:
    """What was read from the scan, each answer beside where it was read."""
    with session_scope(engine) as db:
        referral = referral_or_404(db, reference)
        assert referral.id is not None
        pages = len(pages_for(db, referral.id))
        if not pages:
            raise HTTPException(404, "This referral was not read from a scan.")
        record_event(db, user.name, "referral", referral.id, "viewed", now, "to check the scan")
    form = form_for(referral)
    rows = grid_rows(referral, form)
    return _render(request, referral, form, rows, pages, _workable(user, referral))


@router.post("/referrals/{reference}/check", response_class=HTMLResponse)
async def confirm_check(
    request: Request,
    reference: str,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.OFFICER)],
) -> Response:
    """Store what the officer confirmed (each change a correction); the referral moves on."""
    submitted = await request.form()
    posted = posted_answers(submitted, CONTROLS)
    rows = row_count(submitted.get("grid_rows") or "1", 1, MAX_ROWS)
    settings = request.app.state.settings
    with session_scope(engine) as db:
        referral = referral_or_404(db, reference)
        assert referral.id is not None
        form = form_for(referral)
        rows = max(rows, grid_rows(referral, form))  # never fewer rows than it holds
        keyed = keyed_record(form, entry_sections(form, rows), posted)
        if not keyed.ok:
            db.rollback()
            pages = page_count(engine, referral.id)
            return _render(request, referral, form, rows, pages, True, keyed, 400)
        try:
            done = confirm(db, referral, form, keyed, settings.mail_config, user.name, now)
        except WorkflowError as exc:
            db.rollback()
            flash(request, str(exc)[:1].upper() + str(exc)[1:] + ".")
            return see_flash(f"/referrals/{reference}")
    now_is = workflow.status_label(done.status)
    said = f"Scan checked: {done.changed} answer(s) corrected; now {now_is}."
    if done.missing:
        said += f" {done.missing} mandatory answer(s) missing"
        said += ": the referrer was asked for them." if done.asked else "."
    flash(request, said)
    return see_flash(f"/referrals/{reference}")


@router.get("/referrals/{reference}/scan/pages/{index}.png")
def scan_page(
    reference: str,
    index: int,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.VIEWER)],
) -> Response:
    """One scanned page, upright, at screen resolution."""
    with session_scope(engine) as db:
        referral = referral_or_404(db, reference)
        assert referral.id is not None
        where = f"page {index + 1}"
        record_event(db, user.name, "referral", referral.id, "viewed scan", now, where)
    try:
        image = upright_page(engine, referral.id, index)
    except PageUnavailable as exc:
        raise HTTPException(404, f"The scanned page cannot be shown: {exc}.") from None
    return Response(png(image), media_type="image/png", headers=IMAGE_HEADERS)


@router.get("/referrals/{reference}/scan/crop")
def scan_crop(
    reference: str,
    engine: DbEngine,
    user: Annotated[SignedIn, require(users.VIEWER)],
    key: Annotated[str, Query(max_length=200)],
) -> Response:
    """The part of a scanned page one answer was read from (the check page is audited;
    its crops, one per answer, are not)."""
    with session_scope(engine) as db:
        referral = referral_or_404(db, reference)
    assert referral.id is not None
    box = ScanBox.from_text(str((referral.provenance.get(key) or {}).get("box", "")))
    if box is None:
        raise HTTPException(404, "That answer was not read from a scanned page.")
    try:
        image = upright_page(engine, referral.id, box.page)
    except PageUnavailable as exc:
        raise HTTPException(404, f"The scanned page cannot be shown: {exc}.") from None
    return Response(png(crop(image, box)), media_type="image/png", headers=IMAGE_HEADERS)
