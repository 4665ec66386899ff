"""The referral page and the work on it: values with provenance, documents, corrections,
assignment, status changes, audit, purge."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

from markupsafe import escape
from review_support import Site, add_referral, csrf_of, token
from sqlmodel import select

from storage.db import session_scope
from storage.tables import (
    AuditEvent,
    Referral,
    ReferralCorrection,
    ReferralStatusChange,
)
from storage.workflow import by_reference


def events(site: Site, actor: str) -> list[tuple[str, str | None]]:
    with session_scope(site.engine) as db:
        rows = db.exec(
            select(AuditEvent).where(AuditEvent.actor == actor).order_by(AuditEvent.id)
        ).all()
    return [(e.action, e.detail) for e in rows]


def test_the_record_is_laid_out_by_the_form_with_provenance_and_flags(site: Site) -> None:
    page = site.client("vera").get("/referrals/SIRG-2026-0004")
    assert page.status_code == 200
    text = page.text
    # Section titles and labels come from the form definition, in order.
    positions = [
        text.index(t) for t in ("1. Referrer details", "2. Child details", "8. Authorisation")
    ]
    assert positions == sorted(positions)
    assert "Name of referrer" in text and "Date of incident" in text
    # Values with where they were found, linked to the document view beside them.
    assert 'Found in <a href="#at-docx-table-3-row-1-cell-2">table 3, row 1, cell 2</a>' in text
    assert 'id="at-docx-table-3-row-1-cell-2" class="found"' in text
    # A normalised value shows what was written on the form.
    assert "written “12/06/2024”" in text
    # The flags of the needs-info sample.
    assert text.count('class="flag open"') >= 7
    assert "Missing: must be completed but was left empty" in text
    # The original email and form can be downloaded; replies and alerts are listed.
    assert 'href="/referrals/SIRG-2026-0004/document"' in text
    assert 'href="/referrals/SIRG-2026-0004/email"' in text
    assert "Replies and alerts sent (1)" in text  # no routing file here: no alerts
    assert '<td data-label="What">needs info</td>' in text
    assert 'class="status-sent" data-label="Status">sent' in text


def test_html_in_a_parsed_value_is_shown_as_text(site: Site) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    add_referral(
        site.engine,
        "SIRG-2026-0400",
        record={"child.name": evil, "summary": evil, "household": [{"name": evil}]},
        provenance={"child.name": {"raw": evil, "where": evil}},
        problems=[{"key": "learning", "kind": "missing", "message": evil, "raw": evil}],
        agency=evil,
    )
    client = site.client("vera")
    for path in ("/referrals/SIRG-2026-0400", "/?q=script"):
        text = client.get(path).text
        assert "<script>" not in text and "<img src=x" not in text
        assert "&lt;script&gt;" in text
    text = client.get("/referrals/SIRG-2026-0400").text
    assert text.count(str(escape(evil))) >= 4


def test_document_and_email_downloads_are_attachments_and_audited(site: Site) -> None:
    client = site.client("vera")
    doc = client.get("/referrals/SIRG-2026-0001/document")
    assert doc.status_code == 200
    assert doc.content.startswith(b"PK")  # the .docx as received
    assert doc.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''" in doc.headers["content-disposition"]
    assert doc.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    # Asking for it inline does not show a Word file as a page.
    inline = client.get("/referrals/SIRG-2026-0001/document?inline=1")
    assert inline.headers["content-disposition"].startswith("attachment;")
    eml = client.get("/referrals/SIRG-2026-0001/email")
    assert eml.status_code == 200 and b"Message-ID" in eml.content
    assert eml.headers["content-type"] == "message/rfc822"
    assert 'filename="SIRG-2026-0001.eml"' in eml.headers["content-disposition"]
    actions = [a for a, _ in events(site, "vera")]
    assert actions.count("downloaded document") == 2 and "downloaded email" in actions


def test_a_pdf_can_be_shown_in_the_page_but_html_claiming_to_be_one_cannot(site: Site) -> None:
    add_referral(site.engine, "SIRG-2026-0500", content=b"%PDF-1.7\n% a pdf\n")
    add_referral(site.engine, "SIRG-2026-0501", content=b"<html><script>alert(1)</script>")
    client = site.client("vera")
    pdf = client.get("/referrals/SIRG-2026-0500/document?inline=1")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("inline;")
    fake = client.get("/referrals/SIRG-2026-0501/document?inline=1")
    assert fake.headers["content-type"] == "application/octet-stream"
    assert fake.headers["content-disposition"].startswith("attachment;")


def test_an_unknown_reference_is_not_found(site: Site) -> None:
    client = site.client("vera")
    assert client.get("/referrals/SIRG-1999-9999").status_code == 404
    assert client.get("/referrals/SIRG-1999-9999/document").status_code == 404


def test_an_officer_corrects_a_value_and_before_and_after_are_kept(site: Site) -> None:
    client = site.client("olly")
    form = client.get("/referrals/SIRG-2026-0004/correct?key=referrer.phone")
    assert form.status_code == 200 and "Telephone number" in form.text
    response = client.post(
        "/referrals/SIRG-2026-0004/correct",
        data={
            "csrf_token": token(client),
            "key": "referrer.phone",
            "value": "+44 (0)151 496 0000",
            "note": "rang the referrer",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/referrals/SIRG-2026-0004#flash"
    with session_scope(site.engine) as db:
        referral = by_reference(db, "SIRG-2026-0004")
        assert referral is not None
        assert referral.record["referrer.phone"] == "01514960000"  # normalised as the reader does
        (correction,) = db.exec(select(ReferralCorrection)).all()
    assert (correction.key, correction.before, correction.after) == (
        "referrer.phone",
        None,
        "01514960000",
    )
    assert correction.actor == "olly" and correction.note == "rang the referrer"
    page = client.get("/referrals/SIRG-2026-0004").text
    assert '<span class="badge corrected">Corrected</span>' in page
    assert 'class="flag resolved">Missing' in page
    timeline = page[page.index('id="timeline"') :]
    assert "Filled “Telephone number”" in timeline and "referrer.phone" not in timeline
    assert ("value corrected", "referrer.phone") in events(site, "olly")


def test_a_correction_must_fit_the_field(site: Site) -> None:
    client = site.client("olly")
    csrf = token(client)
    bad = client.post(
        "/referrals/SIRG-2026-0001/correct",
        data={"csrf_token": csrf, "key": "child.dob", "value": "31/02/2020"},
    )
    assert bad.status_code == 400 and "not a real date" in bad.text
    bad = client.post(
        "/referrals/SIRG-2026-0001/correct",
        data={"csrf_token": csrf, "key": "child.gender", "value": "Unicorn"},
    )
    assert bad.status_code == 400
    missing = client.post(
        "/referrals/SIRG-2026-0001/correct",
        data={"csrf_token": csrf, "key": "no.such.field", "value": "x"},
    )
    assert missing.status_code == 404
    with session_scope(site.engine) as db:
        assert db.exec(select(ReferralCorrection)).all() == []


def test_correcting_names_and_grid_cells_keeps_the_queue_columns_in_step(site: Site) -> None:
    client = site.client("olly")
    csrf = token(client)
    for key, value in (("child.name", "Lily-May Kavanagh"), ("household[0].name", "C. Kavanagh")):
        client.post(
            "/referrals/SIRG-2026-0001/correct",
            data={"csrf_token": csrf, "key": key, "value": value},
        )
    with session_scope(site.engine) as db:
        referral = by_reference(db, "SIRG-2026-0001")
        assert referral is not None
        assert referral.child_name == "Lily-May Kavanagh"
        assert referral.record["household"][0]["name"] == "C. Kavanagh"
    assert "SIRG-2026-0001" in client.get("/?q=lily-may").text


def test_an_officer_adds_a_row_the_reader_missed_and_fills_it_in(site: Site) -> None:
    client = site.client("olly")
    with session_scope(site.engine) as db:
        referral = by_reference(db, "SIRG-2026-0001")
        assert referral is not None
        before = list(referral.record.get("household") or [])
    page = client.get("/referrals/SIRG-2026-0001").text
    assert 'name="grid" value="household"' in page
    csrf = token(client)
    added = client.post(
        "/referrals/SIRG-2026-0001/rows",
        data={"csrf_token": csrf, "grid": "household"},
        follow_redirects=False,
    )
    n = len(before)
    assert added.status_code == 303
    assert added.headers["location"].endswith(f"correct?key=household%5B{n}%5D.name#flash")
    form = client.get(added.headers["location"])
    assert form.status_code == 200 and f"row {n + 1}: Name" in form.text
    client.post(
        "/referrals/SIRG-2026-0001/correct",
        data={
            "csrf_token": csrf,
            "key": f"household[{n}].name",
            "value": "Grandmother, Jo Kavanagh",
        },
    )
    bad = client.post(
        "/referrals/SIRG-2026-0001/rows",
        data={"csrf_token": csrf, "grid": "not_a_table"},
        follow_redirects=False,
    )
    assert bad.status_code == 404
    with session_scope(site.engine) as db:
        referral = by_reference(db, "SIRG-2026-0001")
        assert referral is not None
        actions = [
            (e.action, e.detail)
            for e in db.exec(select(AuditEvent).where(AuditEvent.entity_id == referral.id))
        ]
    assert referral.record["household"][:n] == before  # the rows read stay as they were
    assert referral.record["household"][n] == {"name": "Grandmother, Jo Kavanagh"}
    assert ("row added", "household") in actions


def test_filling_every_missing_answer_makes_a_referral_complete(site: Site) -> None:
    client = site.client("olly")
    csrf = token(client)
    answers = {
        "referrer.phone": "0151 496 0000",
        "referrer.discussed_with_safeguarding_lead": "Yes",
        "child.dob": "2015-03-01",
        "learning": "Joint working between early help and health.",
        "authorisation.manager_name": "Sam Lee",
        "authorisation.manager_role": "Team manager",
        "authorisation.date": "2024-06-12",
    }
    for key, value in answers.items():
        response = client.post(
            "/referrals/SIRG-2026-0004/correct",
            data={"csrf_token": csrf, "key": key, "value": value},
            follow_redirects=False,
        )
        assert response.status_code == 303, key
    with session_scope(site.engine) as db:
        referral = by_reference(db, "SIRG-2026-0004")
        assert referral is not None and referral.complete
    assert ("marked complete", None) in events(site, "olly")


def test_assign_and_move_along_the_workflow(site: Site) -> None:
    client = site.client("olly")
    csrf = token(client)
    base = "/referrals/SIRG-2026-0001"
    client.post(f"{base}/assign", data={"csrf_token": csrf, "assignee": "olly"})
    # A viewer cannot be given work, and nobody unknown.
    client.post(f"{base}/assign", data={"csrf_token": csrf, "assignee": "vera"})
    client.post(
        f"{base}/status",
        data={"csrf_token": csrf, "to_status": "ready_for_sirg", "note": "for Tuesday's SIRG"},
    )
    # Skipping ahead is refused: from Ready for SIRG only a decision or back for information.
    refused = client.post(f"{base}/status", data={"csrf_token": csrf, "to_status": "closed"})
    assert "cannot move to Closed" in refused.text
    # A decision needs its date.
    refused = client.post(
        f"{base}/status", data={"csrf_token": csrf, "to_status": "decision_rapid_review"}
    )
    assert "needs the date" in refused.text
    client.post(
        f"{base}/status",
        data={
            "csrf_token": csrf,
            "to_status": "decision_rapid_review",
            "decision_date": "2026-11-20",
            "note": "criteria met",
        },
    )
    with session_scope(site.engine) as db:
        referral = by_reference(db, "SIRG-2026-0001")
        assert referral is not None
        assert referral.assigned_to == "olly"
        assert referral.status == "decision_rapid_review"
        assert referral.decision_date == date(2026, 11, 20)
        changes = db.exec(select(ReferralStatusChange).order_by(ReferralStatusChange.id)).all()
    assert [(c.from_status, c.to_status, c.note) for c in changes] == [
        ("new", "ready_for_sirg", "for Tuesday's SIRG"),
        ("ready_for_sirg", "decision_rapid_review", "criteria met"),
    ]
    page = client.get(base).text
    # A Rapid Review decision means the Panel must be told: its clock runs on until the
    # notification is recorded (issue #14), where it used to stop at the decision.
    assert "Decision: Rapid Review" in page
    assert re.search(r"Due in \d+ working days?|Due today|Overdue by", page)
    assert [a for a, _ in events(site, "olly") if a in ("assigned", "status changed")] == [
        "assigned",
        "status changed",
        "status changed",
    ]


def test_the_audit_log_shows_who_did_what_and_exports_csv(site: Site) -> None:
    officer = site.client("olly")
    csrf = token(officer)
    officer.get("/referrals/SIRG-2026-0002")
    officer.post("/referrals/SIRG-2026-0002/assign", data={"csrf_token": csrf, "assignee": "olly"})
    officer.get("/referrals/SIRG-2026-0002/document")
    # A detail a sender could control must not become a spreadsheet formula.
    with session_scope(site.engine) as db:
        db.add(
            AuditEvent(
                at=site.clock.now,
                actor="system",
                entity="message",
                entity_id=1,
                action="note",
                detail='=HYPERLINK("http://evil")',
            )
        )
    admin = site.client("ada")
    page = admin.get("/audit?actor=olly")
    assert page.status_code == 200
    for action in ("login", "viewed", "assigned", "downloaded document"):
        assert f'<td data-label="What">{action}</td>' in page.text
    assert '<a href="/referrals/SIRG-2026-0002">SIRG-2026-0002</a>' in page.text
    export = admin.get("/audit.csv")
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert {"at_utc", "actor", "action", "reference", "detail"} <= set(rows[0])
    assert any(r["actor"] == "olly" and r["action"] == "assigned" for r in rows)
    assert any(r["reference"] == "SIRG-2026-0002" for r in rows)
    assert any(r["detail"] == '\'=HYPERLINK("http://evil")' for r in rows)
    filtered = list(csv.DictReader(io.StringIO(admin.get("/audit.csv?action=assigned").text)))
    assert [r["action"] for r in filtered] == ["assigned"]
    assert ("exported", None) in events(site, "ada")


def test_admin_manages_users(site: Site) -> None:
    admin = site.client("ada")
    csrf = token(admin, "/admin/users")
    refused = admin.post(
        "/admin/users",
        data={"csrf_token": csrf, "name": "Nina.Officer", "role": "officer", "password": "short"},
    )
    assert "at least 12 characters" in refused.text
    admin.post(
        "/admin/users",
        data={
            "csrf_token": csrf,
            "name": "Nina.Officer",
            "role": "officer",
            "password": "a long enough password",
        },
    )
    assert "nina.officer" in admin.get("/admin/users").text
    admin.post(
        "/admin/users/nina.officer", data={"csrf_token": csrf, "action": "role", "role": "admin"}
    )
    admin.post("/admin/users/nina.officer", data={"csrf_token": csrf, "action": "disable"})
    # An admin cannot lock themselves out.
    refused = admin.post("/admin/users/ada", data={"csrf_token": csrf, "action": "disable"})
    assert "Ask another admin" in refused.text
    settings = admin.get("/admin/settings").text
    assert "INTAKE_REVIEW_SECRET" in settings and "not set" in settings
    actions = [a for a, _ in events(site, "ada")]
    assert {"user added", "role changed", "user disabled"} <= set(actions)
    assert "ada" not in [d for a, d in events(site, "ada") if a == "user disabled"]


def test_purge_removes_personal_data_of_a_closed_referral_only(site: Site) -> None:
    admin = site.client("ada")
    csrf = token(admin)
    base = "/referrals/SIRG-2026-0003"
    refused = admin.post(f"{base}/purge", data={"csrf_token": csrf, "confirm": "SIRG-2026-0003"})
    assert "only a closed referral" in refused.text.lower()
    for status in ("ready_for_sirg", "decision_nfa", "closed"):
        admin.post(
            f"{base}/status",
            data={"csrf_token": csrf, "to_status": status, "decision_date": "2026-11-20"},
        )
    admin.post(f"{base}/purge", data={"csrf_token": csrf, "confirm": "wrong"})
    with session_scope(site.engine) as db:
        assert db.exec(select(Referral).where(Referral.reference == "SIRG-2026-0003")).one().record
    page = admin.post(f"{base}/purge", data={"csrf_token": csrf, "confirm": "SIRG-2026-0003"})
    assert "Personal data removed" in page.text
    with session_scope(site.engine) as db:
        referral = by_reference(db, "SIRG-2026-0003")
        assert referral is not None
        assert referral.record == {} and referral.child_name is None and referral.purged_at
    assert admin.get(f"{base}/document").status_code == 404
    assert admin.get(f"{base}/email").status_code == 404


def test_an_officer_marks_a_referral_urgent_and_routine_again(site: Site) -> None:
    base = "/referrals/SIRG-2026-0001"
    with session_scope(site.engine) as db:
        referral = by_reference(db, "SIRG-2026-0001")
        assert referral is not None
        started = referral.urgent
    viewer = site.client("vera")
    refused = viewer.post(f"{base}/urgency", data={"csrf_token": token(viewer), "urgent": "true"})
    assert refused.status_code == 403
    client = site.client("olly")
    page = client.get(base)
    button = "Mark routine" if started else "Mark urgent"
    assert button in page.text
    for urgent in (not started, started):
        client.post(
            f"{base}/urgency",
            data={"csrf_token": token(client), "urgent": str(urgent).lower(), "reason": "chair"},
        )
        with session_scope(site.engine) as db:
            referral = by_reference(db, "SIRG-2026-0001")
            assert referral is not None and referral.urgent == urgent
    marked = [e for e in events(site, "olly") if e[0] in ("marked urgent", "marked routine")]
    assert marked == [
        ("marked routine" if started else "marked urgent", "chair"),
        ("marked urgent" if started else "marked routine", "chair"),
    ]


def test_an_officer_adds_a_case_note_to_the_timeline_and_the_audit_keeps_no_text(
    site: Site,
) -> None:
    base = "/referrals/SIRG-2026-0001"
    viewer = site.client("vera")
    note = "Spoke to the health visitor: family moved to Anfield last week."
    refused = viewer.post(f"{base}/notes", data={"csrf_token": token(viewer), "text": note})
    assert refused.status_code == 403
    client = site.client("olly")
    assert "Add a case note" in client.get(base).text
    client.post(f"{base}/notes", data={"csrf_token": token(client), "text": "   "})
    client.post(f"{base}/notes", data={"csrf_token": token(client), "text": note})
    page = client.get(base)
    timeline = page.text[page.text.index('id="timeline"') :]
    assert "Case note" in timeline and str(escape(note)) in timeline
    assert timeline.count("Case note") == 1  # the empty one was not kept
    added = [e for e in events(site, "olly") if e[0] == "note added"]
    assert added == [("note added", None)]


def test_a_needs_info_referral_lists_its_missing_answers_at_the_top(site: Site) -> None:
    text = site.client("vera").get("/referrals/SIRG-2026-0004").text
    card = text[text.index('id="missing"') :]
    card = card[: card.index("</div>")]
    targets = re.findall(r'<a href="#([^"]+)">', card)
    assert len(targets) >= 1 and "mandatory answer" in card
    assert text.index('id="missing"') < text.index("1. Referrer details")  # before the record
    for target in targets:
        assert f'id="{target}"' in text  # each link lands on its answer
    complete = site.client("vera").get("/referrals/SIRG-2026-0001").text
    assert 'id="missing"' not in complete


def test_the_correction_page_shows_the_source_beside_the_field(site: Site) -> None:
    client = site.client("olly")
    text = client.get("/referrals/SIRG-2026-0004/correct?key=referrer.name").text
    # The line written on the form stays with the field ...
    assert "Written on the form: “Gráinne Moriarty” (table 3, row 1, cell 2)" in text
    # ... and beside it, the rows of the form around it, the cell it came from marked.
    aside = text[text.index('<aside class="doc source-view"') :]
    assert "Found in table 3, row 1, cell 2 (rows 1–3 of 10 shown)" in aside
    source = re.findall(r'<td class="source">(.*?)</td>', aside)
    assert source == ['<span class="vh">Read from here: </span>Gráinne Moriarty']
    assert "<td>Name of referrer *</td>" in aside  # its label, in the same row
    assert "Early Help Practitioner" in aside  # the rows below it
    assert 'href="/referrals/SIRG-2026-0004#at-docx-table-3-row-1-cell-2"' in aside
    # Shown again with an error, the source is still there.
    bad = client.post(
        "/referrals/SIRG-2026-0004/correct",
        data={"csrf_token": csrf_of(text), "key": "child.dob", "value": "31/02/2020"},
    )
    assert bad.status_code == 400 and 'class="doc source-view"' in bad.text


def test_the_correction_page_says_when_a_value_has_no_source(site: Site) -> None:
    client = site.client("olly")
    text = client.get("/referrals/SIRG-2026-0004/correct?key=referrer.phone").text
    aside = text[text.index('<aside class="doc source-view"') :]
    assert "No source: this answer was not found on the form (it was missing)." in aside
    assert 'class="source"' not in aside and "Written on the form" not in text
    # A scan keyed in by hand: no text to show, so the PDF is linked to read as received.
    add_referral(
        site.engine,
        "SIRG-2026-0502",
        content=b"%PDF-1.7\n% a scan\n",
        provenance={"child.name": {"raw": "Test Child", "where": "keyed in by hand by olly"}},
    )
    text = client.get("/referrals/SIRG-2026-0502/correct?key=child.name").text
    aside = text[text.index('<aside class="doc source-view"') :]
    assert "Source: keyed in by hand by olly." in aside
    assert 'href="/referrals/SIRG-2026-0502/document?inline=1"' in aside


def test_a_problem_in_a_table_row_flags_that_row(site: Site) -> None:
    """The reader numbers a table's rows from 1, as the sender sees them; the record from
    0: the flag for the second household member's date of birth is on the second row."""
    from review.record import layout

    add_referral(
        site.engine,
        "SIRG-2026-0500",
        record={
            "child.name": "Test Child",
            "household": [{"name": "Ann Adult"}, {"name": "Bo Adult"}],
        },
        problems=[
            {
                "key": "household[2].dob",
                "label": "Household – Date of birth",
                "kind": "invalid",
                "message": "not a date",
                "raw": "",
                "where": "",
            }
        ],
    )
    with session_scope(site.engine) as db:
        referral = by_reference(db, "SIRG-2026-0500")
        assert referral is not None
        sections = layout(referral, [])
    (household,) = [g for s in sections for g in s.grids if g.key == "household"]
    flagged = [c.key for row in household.rows for c in row if c.flag is not None]
    assert flagged == ["household[1].dob"]
