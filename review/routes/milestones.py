"""Recording statutory milestones on a referral (officers), and correcting them (admins)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from review.auth import SignedIn, require
from review.days import uk_today
from review.routes import DbEngine, Now, changeable_or_409, referral_or_404, see_other
from review.routes.referral import referral_page
from review.statutory import RESULT_ID, SAVED_KEY, FormState, parse_uk_date, saved_message
from storage import milestones, users
from storage.db import session_scope
from storage.milestones import Input, Milestone, MilestoneError

router = APIRouter()

MAX_REASON = 4000


def _date(typed: str) -> tuple[date | None, str | None]:
    """The typed date, or an error for the date input."""
    try:
        return parse_uk_date(typed), None
    except ValueError:
        return None, "Enter a real date, for example 27/11/2026"


def _sent_back(
    request: Request,
    reference: str,
    engine: DbEngine,
    now: Now,
    user: SignedIn,
    state: FormState,
) -> Response:
    """The referral page again, with the form's errors beside its inputs (400)."""
    request.state.milestone_form = state
    response = referral_page(request, reference, engine, now, user)
    response.status_code = 400
    return response


def _done(request: Request, reference: str, message: str) -> Response:
    # The page goes to the message, which takes the focus (tabindex=-1 and the fragment),
    # so a screen reader hears the result and the clock it changed.
    request.session[SAVED_KEY] = message
    return see_other(f"/referrals/{reference}#{RESULT_ID}")


@router.post("/referrals/{reference}/milestones/{kind}")
def record(
    request: Request,
    reference: str,
    kind: Milestone,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.OFFICER)],
    on: Annotated[str, Form(max_length=40)] = "",
    by: Annotated[str, Form(max_length=400)] = "",
    panel_reference: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Record that a milestone was reached: its clock stops on that date."""
    values = {Input.ON: on, Input.BY: by, Input.PANEL_REFERENCE: panel_reference}
    when, bad_date = _date(on)
    try:
        with session_scope(engine) as db:
            referral = referral_or_404(db, reference)
            changeable_or_409(referral)
            try:
                milestones.record(db, referral, kind, when, by, panel_reference, user.name, now)
            except MilestoneError as exc:
                errors = dict(exc.errors)
                if bad_date:
                    errors[Input.ON] = bad_date
                raise MilestoneError(errors) from None
            clock = milestones.clocks(db, referral, uk_today(now))[kind]
    except MilestoneError as exc:
        state = FormState(kind, False, exc.errors, values)
        return _sent_back(request, reference, engine, now, user, state)
    return _done(request, reference, saved_message(kind, clock))


@router.post("/referrals/{reference}/milestones/{kind}/correct")
def correct(
    request: Request,
    reference: str,
    kind: Milestone,
    engine: DbEngine,
    now: Now,
    user: Annotated[SignedIn, require(users.ADMIN)],
    action: Annotated[str, Form(max_length=20)] = "correct",
    on: Annotated[str, Form(max_length=40)] = "",
    by: Annotated[str, Form(max_length=400)] = "",
    panel_reference: Annotated[str, Form(max_length=100)] = "",
    reason: Annotated[str, Form(max_length=MAX_REASON)] = "",
) -> Response:
    """Correct a recorded milestone, or withdraw it (its clock runs again), with a reason."""
    values = {
        Input.ON: on,
        Input.BY: by,
        Input.PANEL_REFERENCE: panel_reference,
        Input.REASON: reason,
    }
    when, bad_date = _date(on)
    withdraw = action == "clear"
    try:
        with session_scope(engine) as db:
            referral = referral_or_404(db, reference)
            changeable_or_409(referral)
            try:
                if withdraw:
                    milestones.clear(db, referral, kind, reason, user.name, now)
                else:
                    milestones.correct(
                        db, referral, kind, when, by, panel_reference, reason, user.name, now
                    )
            except MilestoneError as exc:
                errors = dict(exc.errors)
                if bad_date and not withdraw:
                    errors[Input.ON] = bad_date
                raise MilestoneError(errors) from None
            clock = milestones.clocks(db, referral, uk_today(now))[kind]
    except MilestoneError as exc:
        state = FormState(kind, True, exc.errors, values)
        return _sent_back(request, reference, engine, now, user, state)
    verb = "withdrawn, its clock runs again" if withdraw else "corrected"
    return _done(request, reference, saved_message(kind, clock, verb))
