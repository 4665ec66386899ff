"""Admin pages: users (add, role, disable, reset, unlock) and the settings in force."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import SecretStr

from review import users as manage
from review.auth import SignedIn, require
from review.passwords import PasswordError
from review.render import flash, page
from review.routes import DbEngine, Now, see_flash
from storage import users
from storage.db import session_scope
from storage.workflow import record_event

router = APIRouter()
Admin = Annotated[SignedIn, require(users.ADMIN)]


@router.get("/admin/users", response_class=HTMLResponse)
def user_list(request: Request, engine: DbEngine, now: Now, user: Admin) -> HTMLResponse:
    """Everyone who may sign in, and a form to add someone."""
    with session_scope(engine) as db:
        people = users.all_users(db)
        delayed = users.delayed_accounts(db, now)
        record_event(db, user.name, "user", 0, "viewed users", now)
    return page(request, "users.html", people=people, roles=users.ROLES, delayed=delayed)


@router.post("/admin/users")
def user_add(
    request: Request,
    engine: DbEngine,
    user: Admin,
    name: Annotated[str, Form(max_length=100)],
    role: Annotated[str, Form(max_length=20)],
    password: Annotated[str, Form(max_length=2000)],
) -> Response:
    """Add a user."""
    try:
        added = manage.add_user(engine, name, role, password, actor=user.name)
    except (users.UserError, PasswordError) as exc:
        flash(request, f"Not added: {exc}.")
    else:
        flash(request, f"Added {added} as {role}.")
    return see_flash("/admin/users")


@router.post("/admin/users/{name}")
def user_change(
    request: Request,
    name: str,
    engine: DbEngine,
    user: Admin,
    action: Annotated[str, Form(max_length=20)],
    role: Annotated[str, Form(max_length=20)] = "",
    password: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Change a user: role, disable, enable, unlock or a new password."""
    if _is_self(name, user) and action in ("disable", "role"):
        # An admin who demotes or disables themselves may leave nobody able to fix it.
        flash(request, "Ask another admin to change your own role or access.")
        return see_flash("/admin/users")
    try:
        if action == "role":
            manage.set_role(engine, name, role, actor=user.name)
            said = f"{name} is now {role}."
        elif action == "disable":
            manage.disable_user(engine, name, actor=user.name)
            said = f"{name} can no longer sign in."
        elif action == "enable":
            manage.enable_user(engine, name, actor=user.name)
            said = f"{name} can sign in again."
        elif action == "unlock":
            manage.unlock_user(engine, name, actor=user.name)
            said = f"{name} can sign in again without waiting."
        elif action == "password":
            manage.reset_user(engine, name, password, actor=user.name)
            said = f"{name} has a new password; their sessions have ended."
        else:
            said = "Nothing changed."
    except (users.UserError, PasswordError) as exc:
        said = f"Not changed: {exc}."
    flash(request, said)
    return see_flash("/admin/users")


def _is_self(name: str, user: SignedIn) -> bool:
    """True when `name`, typed in any case or with spaces, is the signed-in user's."""
    try:
        # Compared as stored: "ADA" and " ada" find the user "ada" too.
        return users.normalise_name(name) == user.name
    except users.UserError:
        return False  # no user can have that name


@router.get("/admin/settings", response_class=HTMLResponse)
def settings_page(request: Request, engine: DbEngine, now: Now, user: Admin) -> HTMLResponse:
    """The settings this server runs with; secrets show only whether they are set."""
    settings = request.app.state.settings
    rows = []
    for name, field in type(settings).model_fields.items():
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            shown = "set" if value.get_secret_value() else "not set"
        elif name == "database_url" and value:
            shown = str(value).split("@")[-1]  # never the password in the URL
        else:
            shown = "" if value is None else str(value)
        rows.append((f"INTAKE_{name.upper()}", shown, field.description or ""))
    with session_scope(engine) as db:
        record_event(db, user.name, "settings", 0, "viewed", now)
    return page(request, "settings.html", rows=rows)
