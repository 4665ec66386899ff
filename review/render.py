"""Jinja2 pages: one environment with autoescape on, our CSS inlined, and small filters."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from review.days import UK
from review.phones import spaced_phone
from storage.workflow import STATUSES, status_label

HERE = Path(__file__).parent
# The stylesheet is inlined into every page: the sign-in page needs it before anyone is
# signed in, and every other address needs a sign-in, so there is no public /static.
# Its hash goes into the Content-Security-Policy, which then allows no other style.
CSS = (HERE / "static" / "review.css").read_text(encoding="utf-8")
CSS_HASH = "sha256-" + base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()

env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    # HTML typed into a form (a name with <script> in it) must show as text: escape all.
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def uk_datetime(value: datetime | None) -> str:
    """'Wed 25 Nov 2026, 14:05' in UK time."""
    if value is None:
        return ""
    local = value.astimezone(UK)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M}"


def uk_date(value: date | None) -> str:
    """'Wed 2 Dec 2026'."""
    if value is None:
        return ""
    return f"{value:%a} {value.day} {value:%b %Y}"


def where_label(where: str) -> str:
    """'docx table 3 row 1 cell 2' -> 'table 3, row 1, cell 2'; PDFs by page."""
    m = re.fullmatch(r"docx table (\d+) row (\d+) cell (\d+)(.*)", where)
    if m:
        return f"table {m[1]}, row {m[2]}, cell {m[3]}"
    m = re.fullmatch(r"docx paragraph (\d+).*", where)
    if m:
        return f"paragraph {m[1]}"
    m = re.fullmatch(r"pdf page (\d+).*", where)
    if m:
        return f"page {m[1]}"
    m = re.fullmatch(r"scan page (\d+).*", where)
    if m:
        return f"page {m[1]} of the scan"
    return where


def anchor(where: str) -> str:
    """The HTML id of a place in the document view."""
    return "at-" + re.sub(r"[^a-z0-9]+", "-", where.lower()).strip("-")


def field_id(key: str) -> str:
    """The HTML id of a value's row on the referral page."""
    return "f-" + re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")


def value_text(value: Any) -> str:
    """A stored value as plain text (lists one per line)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return str(value)


def birth_date(value: date | None) -> str:
    """'12 Jun 2015': a date of birth without the weekday, which says nothing about a child."""
    if value is None:
        return ""
    return f"{value.day} {value:%b %Y}"


def shown_value(value: Any, kind: str) -> str:
    """A value for reading: dates the UK way ('Wed 12 Jun 2024'), phones spaced ('0151 496
    0777'; stored as digits), lists one per line."""
    if kind == "date" and isinstance(value, str):
        try:
            return uk_date(date.fromisoformat(value))
        except ValueError:
            return value
    if kind == "phone":
        if isinstance(value, str):
            return spaced_phone(value)
        if isinstance(value, list):
            return "\n".join(spaced_phone(str(v)) for v in value)
    return value_text(value)


def filesize(size: int | None) -> str:
    """'812 bytes', '14.2 KB', '3.1 MB'."""
    if size is None:
        return ""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


env.filters.update(
    uk_datetime=uk_datetime,
    uk_date=uk_date,
    birth_date=birth_date,
    status_label=status_label,
    where_label=where_label,
    anchor=anchor,
    field_id=field_id,
    value_text=value_text,
    shown_value=shown_value,
    filesize=filesize,
)
env.globals.update(STATUSES=STATUSES, css=Markup(CSS))


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page for this request (user, CSRF token and flash message included)."""
    session = request.session
    flash = session.pop("flash", None)  # shown once
    html = env.get_template(template).render(
        request=request,
        user=getattr(request.state, "user", None),
        csrf=session.get("csrf", ""),
        flash=flash,
        path=request.url.path,
        **context,
    )
    return HTMLResponse(html, status_code=status_code)


def flash(request: Request, message: str) -> None:
    """A one-line message for the next page (after a redirect)."""
    request.session["flash"] = message
