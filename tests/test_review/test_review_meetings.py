"""SIRG meetings: agendas, confirmed decisions and their emails, the undo, and the pack."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from fastapi.testclient import TestClient
from review_support import PASSWORD, Clock, Site, add_referral, axe_violations, token
from sqlalchemy import Engine, text
from sqlmodel import select
from test_review_browser import sign_in

from intake.settings import Settings
from review.app import create_app
from review.days import uk_today
from review.users import add_user
from storage import crypto, meetings, purge
from storage.agenda import Decision, agenda, items_of, offered
from storage.db import make_engine, session_scope
from storage.tables import (
    AuditEvent,
    MeetingDecision,
    OutboxMessage,
    Referral,
    ReferralStatusChange,
    SirgMeeting,
)
from storage.workflow import CLOSED, READY, by_reference, change_status

CHILD = "Lily-Mae Kavanagh"
REFERRER = "siobhan.mulcahy@merseyside.police.uk"
REPS = ("chair@liverpool.gov.uk", "health.rep@nhs.example")


def record(child: str = CHILD) -> dict[str, Any]:
    """A full enough record: the sections the pack shows, and details it must leave out."""
    return {
        "child.name": child,
        "child.address": "Flat 3, 27 Cresswell Court, Kirkdale, Liverpool, L4 6TB",
        "referrer.name": "Siobhán Mulcahy",
        "summary": f"On 6 November {child} (4 years) fell from a first-floor window.\n"
        "Home conditions were very poor.",
        "criteria": [
            "The child has been seriously harmed",
            "Abuse or neglect is known or suspected",
        ],
        "review_type": "Rapid Review",
        "parallel_processes.police_investigation.status": "Yes",
        "parallel_processes.police_investigation.details": "Crime ref 41K228713/24",
        "parallel_processes.coroners_inquest.status": "No",
        "agencies": [
            {
                "agency": "Liverpool City Council Children's Services",
                "practitioner": "Priya Chaudhry (social worker)",
                "contact": "0151 496 0531",
                "currently_involved": "Yes",
            }
        ],
        "key_dates": [
            {"date": "2024-07-15", "event": "Child in need plan started"},
            {"date": "2024-11-06", "event": f"{child} admitted to PICU"},
        ],
    }


def ready(engine: Engine, reference: str, child: str = CHILD, alerted: bool = True) -> int:
    """A Ready referral with a referrer address and alerts sent to two representatives."""
    received = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    referral_id = add_referral(
        engine,
        reference,
        status=READY,
        record=record(child),
        panel_due=date(2026, 11, 4),
        rapid_review_due=date(2026, 11, 30),
        agency="Merseyside Police",
    )
    with session_scope(engine) as db:
        referral = db.get(Referral, referral_id)
        assert referral is not None
        referral.referrer_email = REFERRER
        referral.child_dob = date(2020, 6, 19)
        db.add(referral)
        for n, rep in enumerate(REPS if alerted else ()):
            db.add(
                OutboxMessage(
                    kind="alert",
                    referral_id=referral_id,
                    mail_from="sirg@lscp.example",
                    to_addr=rep,
                    subject=f"New SIRG referral {reference}",
                    body_text="alert",
                    header_message_id=f"<alert{n}.{reference}@lscp.example>",
                    next_attempt_at=received,
                    created_at=received,
                    status="sent",
                )
            )
    return referral_id


def schedule(client: TestClient, day: date, place: str = "Cunard Building, room 4") -> Any:
    csrf = token(client, "/meetings")
    return client.post(
        "/meetings",
        data={"csrf_token": csrf, "meeting_date": day.isoformat(), "place_note": place},
        follow_redirects=False,
    )


def meeting_id_of(response: Any) -> int:
    assert response.status_code == 303, response.text
    return int(response.headers["location"].removesuffix("#flash").rsplit("/", 1)[1])


def today(site: Site) -> date:
    return uk_today(site.clock.now)


def items(site: Site, meeting_id: int) -> list[str]:
    with session_scope(site.engine) as db:
        meeting = db.get(SirgMeeting, meeting_id)
        assert meeting is not None
        return [i.reference for i in agenda(db, meeting)]


def item_id(site: Site, meeting_id: int, reference: str) -> int:
    with session_scope(site.engine) as db:
        meeting = db.get(SirgMeeting, meeting_id)
        assert meeting is not None
        return next(i.id for i in agenda(db, meeting) if i.reference == reference)


def decide(client: TestClient, meeting_id: int, item: int, step: str, **data: str) -> Any:
    csrf = token(client, f"/meetings/{meeting_id}")
    return client.post(
        f"/meetings/{meeting_id}/items/{item}/decision",
        data={"csrf_token": csrf, "step": step, **data},
        follow_redirects=False,
    )


# --------------------------------------------------------------------------- storage


def test_ready_referrals_are_offered_and_the_agenda_can_be_shaped(site: Site) -> None:
    for ref in ("SIRG-2026-0101", "SIRG-2026-0102", "SIRG-2026-0103"):
        ready(site.engine, ref)
    add_referral(site.engine, "SIRG-2026-0104", status="new")  # not ready: never offered
    now, day = site.clock.now, today(site)
    with session_scope(site.engine) as db:
        first = meetings.create_meeting(db, day + timedelta(days=7), "10:00", "", "olly", now, day)
        second = meetings.create_meeting(db, day + timedelta(days=14), None, None, "olly", now, day)
        with pytest.raises(meetings.MeetingError, match="already a meeting"):
            meetings.create_meeting(db, day + timedelta(days=7), None, None, "olly", now, day)
        with pytest.raises(meetings.MeetingError, match="past"):
            meetings.create_meeting(db, day - timedelta(days=1), None, None, "olly", now, day)
        offers = [o.reference for o in offered(db, day)]
        assert {"SIRG-2026-0101", "SIRG-2026-0102", "SIRG-2026-0103"} <= set(offers)
        assert "SIRG-2026-0104" not in offers
        assert {o.initials for o in offered(db, day) if o.reference.startswith("SIRG-2026-01")} == {
            "L.M.K."
        }
        one = by_reference(db, "SIRG-2026-0101")
        assert one is not None
        meetings.add_to_agenda(db, first, one, "olly", now, day)
        with pytest.raises(meetings.MeetingError, match="already on the agenda"):
            meetings.add_to_agenda(db, second, one, "olly", now, day)
        new = by_reference(db, "SIRG-2026-0104")
        assert new is not None
        with pytest.raises(meetings.MeetingError, match="not Ready"):
            meetings.add_to_agenda(db, first, new, "olly", now, day)
        added = meetings.add_all_ready(db, first, "olly", now, day)
        assert "SIRG-2026-0102" in added and "SIRG-2026-0101" not in added
        assert offered(db, day) == []  # everything Ready is on an upcoming agenda
        first_id, second_id = first.id, second.id
    assert first_id is not None and second_id is not None
    order = items(site, first_id)
    assert order[0] == "SIRG-2026-0101"
    with session_scope(site.engine) as db:
        first = db.get(SirgMeeting, first_id)
        second = db.get(SirgMeeting, second_id)
        assert first is not None and second is not None
        moving = item_id(site, first_id, order[1])
        meetings.move_item(db, first, moving, meetings.Move.UP, "olly", now)
        meetings.move_item(db, first, moving, meetings.Move.UP, "olly", now)  # at the top: no-op
    assert items(site, first_id)[:2] == [order[1], order[0]]
    with session_scope(site.engine) as db:
        first = db.get(SirgMeeting, first_id)
        assert first is not None
        meetings.move_item(db, first, moving, meetings.Move.DOWN, "olly", now)
    assert items(site, first_id) == order
    with session_scope(site.engine) as db:
        first = db.get(SirgMeeting, first_id)
        second = db.get(SirgMeeting, second_id)
        assert first is not None and second is not None
        meetings.move_to_meeting(
            db, first, item_id(site, first_id, "SIRG-2026-0101"), second, "olly", now, day
        )
        removed = meetings.remove_item(db, first, item_id(site, first_id, order[1]), "olly", now)
        assert removed == order[1]
        assert order[1] in [o.reference for o in offered(db, day)]  # offered again
    assert items(site, second_id) == ["SIRG-2026-0101"]
    assert "SIRG-2026-0101" not in items(site, first_id)
    with session_scope(site.engine) as db:
        actions = {
            e.action for e in db.exec(select(AuditEvent).where(AuditEvent.entity == "meeting"))
        }
    assert {"scheduled", "agenda item added", "agenda item moved up", "agenda item moved out",
            "agenda item moved in", "agenda item removed"} <= actions  # fmt: skip


def test_ready_referrals_go_onto_the_next_meeting_s_agenda(site: Site) -> None:
    """Scheduling the next meeting takes the Ready referrals waiting for one; a referral
    made Ready later joins that meeting's agenda; a later meeting takes neither."""
    ready(site.engine, "SIRG-2026-0121")
    add_referral(site.engine, "SIRG-2026-0122", status="new")
    client = site.client("olly")
    day = today(site)
    for offset in (7, 14):  # the next meeting takes the waiting referral; the later none
        page = client.post(
            "/meetings",
            data={
                "csrf_token": token(client),
                "meeting_date": (day + timedelta(days=offset)).isoformat(),
            },
        )
        assert page.status_code == 200, page.text
    with session_scope(site.engine) as db:
        later, soonest = sorted(
            db.exec(select(SirgMeeting)).all(), key=lambda m: m.meeting_date, reverse=True
        )
        assert [i.referral_id for i in agenda_items(db, later)] == []
        on_soonest = [ref_of(db, i.referral_id) for i in agenda_items(db, soonest)]
    assert on_soonest == ["SIRG-2026-0121"]
    csrf = token(client, "/referrals/SIRG-2026-0122")
    moved = client.post(
        "/referrals/SIRG-2026-0122/status",
        data={"csrf_token": csrf, "to_status": READY},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    page = client.get("/referrals/SIRG-2026-0122")
    assert "It is on the agenda of the SIRG meeting of" in page.text
    with session_scope(site.engine) as db:
        soonest_again = db.get(SirgMeeting, soonest.id)
        assert soonest_again is not None
        refs = [ref_of(db, i.referral_id) for i in agenda_items(db, soonest_again)]
    assert refs == ["SIRG-2026-0121", "SIRG-2026-0122"]


def agenda_items(db: Any, meeting: SirgMeeting) -> list[Any]:
    assert meeting.id is not None
    return list(items_of(db, meeting.id))


def ref_of(db: Any, referral_id: int) -> str:
    referral = db.get(Referral, referral_id)
    assert referral is not None
    return str(referral.reference)


def test_a_decision_reason_is_sealed_and_purged_with_the_referral(site: Site) -> None:
    referral_id = ready(site.engine, "SIRG-2026-0111")
    now, day = site.clock.now, today(site)
    crypto.configure([crypto.new_key()])
    try:
        with session_scope(site.engine) as db:
            meeting = meetings.create_meeting(db, day, None, None, "olly", now, day)
            referral = db.get(Referral, referral_id)
            assert referral is not None
            item = meetings.add_to_agenda(db, meeting, referral, "olly", now, day)
            assert item.id is not None
            done = meetings.record_decision(
                db, meeting, item.id, Decision.PLR, f"{CHILD}'s school missed it", "olly", now, day
            )
            assert done.referral.status == Decision.PLR and done.referral.decision_date == day
        with site.engine.connect() as connection:
            stored = connection.execute(text("SELECT reason FROM meeting_decision")).scalar_one()
            notes = connection.execute(text("SELECT note FROM referral_status_change")).all()
        assert CHILD not in str(stored) and "intake-fernet" in str(stored)
        assert all(CHILD not in str(n) for n in notes)  # the status change says the meeting only
        with session_scope(site.engine) as db:
            assert db.exec(select(MeetingDecision)).one().reason.startswith(CHILD)
            referral = db.get(Referral, referral_id)
            assert referral is not None
            change_status(db, referral, CLOSED, None, None, "olly", now)
            purge.purge(db, referral, "ada", now)
        with session_scope(site.engine) as db:
            kept = db.exec(select(MeetingDecision)).one()
            assert kept.reason is None and kept.decision == Decision.PLR
    finally:
        crypto.configure([])


# --------------------------------------------------------------------------- pages


def test_scheduling_errors_are_tied_to_their_fields(site: Site) -> None:
    client = site.client("olly")
    csrf = token(client, "/meetings")
    for value, said in (
        ("", "Enter the date of the meeting"),
        ("2026-02-30", "Enter a real date"),
        ((today(site) - timedelta(days=1)).isoformat(), "today or later"),
        ((today(site) + timedelta(days=900)).isoformat(), "within the next two years"),
    ):
        page = client.post(
            "/meetings", data={"csrf_token": csrf, "meeting_date": value, "place_note": "Room 4"}
        )
        assert page.status_code == 400
        assert 'class="error-summary" role="alert"' in page.text and said in page.text
        assert '<a href="#meeting_date">' in page.text
        field = re.search(r'<input type="date" id="meeting_date"[^>]*>', page.text)
        assert field is not None
        assert 'aria-invalid="true"' in field.group(0)
        assert 'aria-describedby="meeting_date-hint meeting_date-error"' in field.group(0)
        assert 'value="Room 4"' in page.text  # what was typed is kept
    first = meeting_id_of(schedule(client, today(site) + timedelta(days=3)))
    again = schedule(client, today(site) + timedelta(days=3))
    assert again.status_code == 400 and "already a meeting on that day" in again.text
    listing = client.get("/meetings").text
    assert f'href="/meetings/{first}"' in listing and "Next" in listing
    assert 'href="/meetings" class="here" aria-current="page"' in listing


def test_roles_viewers_read_officers_act_admins_undo(site: Site) -> None:
    ready(site.engine, "SIRG-2026-0121")
    officer = site.client("olly")
    meeting = meeting_id_of(schedule(officer, today(site)))
    viewer = site.client("vera")
    assert viewer.get("/meetings").status_code == 200
    page = viewer.get(f"/meetings/{meeting}")
    assert page.status_code == 200 and "Schedule a meeting" not in page.text
    assert viewer.get(f"/meetings/{meeting}/print").status_code == 200
    assert viewer.get(f"/meetings/{meeting}/pack.docx").status_code == 200
    csrf = token(viewer, "/meetings")
    refused = viewer.post(
        "/meetings", data={"csrf_token": csrf, "meeting_date": today(site).isoformat()}
    )
    assert refused.status_code == 403
    csrf = token(officer, f"/meetings/{meeting}")
    officer.post(f"/meetings/{meeting}/agenda/all", data={"csrf_token": csrf})
    item = item_id(site, meeting, "SIRG-2026-0121")
    decide(officer, meeting, item, "confirm", decision=Decision.NFA, reason="threshold not met")
    with session_scope(site.engine) as db:
        decision_id = db.exec(select(MeetingDecision.id)).one()
    undo = f"/meetings/{meeting}/decisions/{decision_id}/undo"
    assert "Undo decision" not in officer.get(f"/meetings/{meeting}").text
    said = officer.post(undo, data={"csrf_token": csrf, "reason": "wrong case"})
    assert said.status_code == 403


def test_a_decision_is_confirmed_then_saved_and_emailed_and_an_admin_undoes_it(
    site: Site,
) -> None:
    referral_id = ready(site.engine, "SIRG-2026-0042")
    officer = site.client("olly")
    meeting = meeting_id_of(schedule(officer, today(site)))
    csrf = token(officer, f"/meetings/{meeting}")
    officer.post(
        f"/meetings/{meeting}/agenda", data={"csrf_token": csrf, "reference": "SIRG-2026-0042"}
    )
    item = item_id(site, meeting, "SIRG-2026-0042")

    # Nothing chosen: both fields come back marked.
    missing = decide(officer, meeting, item, "check", decision="", reason=" ")
    assert missing.status_code == 400
    assert "Choose the decision SIRG made" in missing.text
    assert f'<a href="#decision-{item}-1">' in missing.text
    assert f'<a href="#reason-{item}">' in missing.text
    assert re.search(rf'<textarea id="reason-{item}"[^>]*aria-invalid="true"', missing.text)
    assert "<legend>" in missing.text

    # Checked: the confirmation page, and nothing saved yet.
    check = decide(
        officer, meeting, item, "check", decision=Decision.CSPR, reason="multi-agency learning"
    )
    assert check.status_code == 200
    assert (
        "You are about to record <strong>Child Safeguarding Practice Review (CSPR)</strong> "
        "for <strong>SIRG-2026-0042</strong>" in check.text
    )
    assert "The referrer and 2 alerted SIRG representatives will be told" in check.text
    with session_scope(site.engine) as db:
        assert db.exec(select(MeetingDecision)).all() == []
        assert db.exec(select(OutboxMessage).where(OutboxMessage.kind == "decision")).all() == []
    # Go back: the meeting page with the choice and the reason still there.
    back = decide(
        officer, meeting, item, "edit", decision=Decision.CSPR, reason="multi-agency learning"
    )
    assert back.status_code == 200 and "multi-agency learning</textarea>" in back.text
    assert re.search(
        rf'id="decision-{item}-2" name="decision" value="decision_cspr" checked', back.text
    )

    saved = decide(
        officer, meeting, item, "confirm", decision=Decision.CSPR, reason="multi-agency learning"
    )
    assert saved.status_code == 303
    with session_scope(site.engine) as db:
        referral = db.get(Referral, referral_id)
        assert referral is not None
        assert referral.status == "decision_cspr" and referral.decision_date == today(site)
        change = db.exec(select(ReferralStatusChange)).one()
        assert change.from_status == READY and change.to_status == "decision_cspr"
        rows = db.exec(select(OutboxMessage).where(OutboxMessage.kind == "decision")).all()
        alerts = {
            a.to_addr: a.header_message_id
            for a in db.exec(select(OutboxMessage).where(OutboxMessage.kind == "alert"))
        }
    assert sorted(r.to_addr for r in rows) == sorted([REFERRER, *REPS])
    for row in rows:
        assert row.referral_id == referral_id and row.status == "pending"
        assert row.subject == "SIRG referral SIRG-2026-0042 – decision"
        assert "Decision: Child Safeguarding Practice Review (CSPR)" in row.body_text
        assert CHILD not in row.body_text and "L.M.K." not in row.subject
        assert "multi-agency learning" not in row.body_text  # the reason stays sealed
        if row.to_addr in alerts:  # threaded with the alert that representative had
            assert row.in_reply_to == alerts[row.to_addr]
            assert "/referrals/SIRG-2026-0042" in row.body_text
        else:
            assert "/referrals/" not in row.body_text  # the referrer cannot sign in
    page = officer.get(f"/meetings/{meeting}").text
    assert "Decision: Child Safeguarding Practice Review (CSPR)" in page
    assert "Continue to confirm" not in page  # decided: no second decision
    again = decide(officer, meeting, item, "confirm", decision=Decision.NFA, reason="again")
    assert again.status_code == 303
    with session_scope(site.engine) as db:
        assert len(db.exec(select(MeetingDecision)).all()) == 1

    # An admin undoes it: a reason is needed, then the referral is Ready again.
    admin = site.client("ada")
    with session_scope(site.engine) as db:
        decision_id = db.exec(select(MeetingDecision.id)).one()
    undo = f"/meetings/{meeting}/decisions/{decision_id}/undo"
    csrf = token(admin, f"/meetings/{meeting}")
    empty = admin.post(undo, data={"csrf_token": csrf, "reason": ""})
    assert empty.status_code == 400 and "Give the reason for undoing the decision" in empty.text
    assert re.search(rf'<textarea id="undo-{decision_id}"[^>]*aria-invalid="true"', empty.text)
    done = admin.post(
        undo,
        data={"csrf_token": csrf, "reason": "recorded against the wrong referral"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    with session_scope(site.engine) as db:
        referral = db.get(Referral, referral_id)
        assert referral is not None and referral.status == READY and referral.decision_date is None
        row = db.exec(select(MeetingDecision)).one()
        assert row.undone_by == "ada" and row.undo_reason == "recorded against the wrong referral"
        withdrawn = db.exec(
            select(OutboxMessage).where(OutboxMessage.kind == "decision_withdrawn")
        ).all()
        assert sorted(r.to_addr for r in withdrawn) == sorted([REFERRER, *REPS])
        assert all(
            r.subject == "SIRG referral SIRG-2026-0042 – decision withdrawn" for r in withdrawn
        )
        audit = {
            e.action
            for e in db.exec(
                select(AuditEvent).where(
                    AuditEvent.entity_id == referral_id, AuditEvent.entity == "referral"
                )
            )
        }
        assert {"status changed", "decision undone"} <= audit
    history = admin.get("/referrals/SIRG-2026-0042").text
    assert "Decision: CSPR → Ready for SIRG" in history
    page = admin.get(f"/meetings/{meeting}").text
    assert "Undone: Child Safeguarding Practice Review (CSPR)" in page
    assert "Continue to confirm" in page  # it can be decided again


def test_a_meeting_in_the_future_takes_no_decisions(site: Site) -> None:
    ready(site.engine, "SIRG-2026-0131", alerted=False)
    officer = site.client("olly")
    meeting = meeting_id_of(schedule(officer, today(site) + timedelta(days=2)))
    csrf = token(officer, f"/meetings/{meeting}")
    officer.post(f"/meetings/{meeting}/agenda/all", data={"csrf_token": csrf})
    item = item_id(site, meeting, "SIRG-2026-0131")
    page = officer.get(f"/meetings/{meeting}").text
    assert "recorded here on or after the day of the meeting" in page
    refused = decide(officer, meeting, item, "confirm", decision=Decision.PLR, reason="x")
    assert refused.status_code == 303
    with session_scope(site.engine) as db:
        assert db.exec(select(MeetingDecision)).all() == []


def pack_text(content: bytes) -> tuple[str, str, list[list[str]]]:
    """The body's paragraphs, the header and footer, and every table's cells."""
    doc = Document(io.BytesIO(content))
    body = "\n".join(p.text for p in doc.paragraphs)
    section = doc.sections[0]
    marks = section.header.paragraphs[0].text + "|" + section.footer.paragraphs[0].text
    tables = [[cell.text for row in t.rows for cell in row.cells] for t in doc.tables]
    return body, marks, tables


def test_the_word_pack_and_print_view_carry_what_sirg_needs_and_no_more(site: Site) -> None:
    ready(site.engine, "SIRG-2026-0141")
    ready(site.engine, "SIRG-2026-0142", child="Noah Brathwaite")
    officer = site.client("olly")
    meeting = meeting_id_of(schedule(officer, today(site)))
    csrf = token(officer, f"/meetings/{meeting}")
    officer.post(f"/meetings/{meeting}/agenda/all", data={"csrf_token": csrf})
    response = officer.get(f"/meetings/{meeting}/pack.docx")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "OFFICIAL-SENSITIVE.docx" in response.headers["content-disposition"]
    body, marks, tables = pack_text(response.content)
    assert marks == "OFFICIAL-SENSITIVE|OFFICIAL-SENSITIVE"
    assert "SIRG meeting pack" in body and "Agenda" in body
    agenda_cells = tables[0]
    assert agenda_cells[:3] == ["No.", "Reference", "Child"]
    everything = body + "\n" + "\n".join("\n".join(t) for t in tables)
    for reference, initials in (("SIRG-2026-0141", "L.M.K."), ("SIRG-2026-0142", "N.B.")):
        assert any(reference in c for c in agenda_cells)
        assert f"{initials}, 6 years" in everything
        assert re.search(rf"\d+\. {reference}", body)
    for heading in (
        "Summary",
        "Criteria",
        "Review type requested",
        "Parallel processes",
        "Agencies involved",
        "Key dates",
        "Statutory dates",
    ):
        assert body.count(heading) >= 2, heading
    assert "Abuse or neglect is known or suspected" in body
    assert "Crime ref 41K228713/24" in everything
    assert "National Panel notification due" in everything and "Rapid Review due" in everything
    assert "Liverpool City Council Children's Services (currently involved: Yes)" in body
    assert "L.M.K. admitted to PICU" in everything
    for secret in (
        CHILD,
        "Noah Brathwaite",
        "Cresswell",
        "Priya Chaudhry",
        "0151 496 0531",
        "Mulcahy",
    ):
        assert secret not in everything, secret
    printed = officer.get(f"/meetings/{meeting}/print").text
    assert printed.count("OFFICIAL-SENSITIVE") >= 3
    assert "Statutory dates" in printed and "L.M.K., 6 years" in printed
    assert CHILD not in printed and "Cresswell" not in printed
    with session_scope(site.engine) as db:
        actions = [e.action for e in db.exec(select(AuditEvent).where(AuditEvent.actor == "olly"))]
    assert actions.count("downloaded meeting pack") == 3  # the meeting and both referrals
    assert actions.count("viewed meeting pack") == 3


def test_meetings_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    engine = make_engine(postgres_url)
    clock = Clock()
    settings = Settings(data_dir=tmp_path, database_url=postgres_url, review_secure_cookies=False)
    site = Site(create_app(settings, engine=engine, clock=clock), engine, clock, settings)
    try:
        add_user(engine, "olly", "officer", PASSWORD)
        add_user(engine, "ada", "admin", PASSWORD)
        ready(engine, "SIRG-2026-0001")
        ready(engine, "SIRG-2026-0002", child="Noah Brathwaite")
        officer = site.client("olly")
        meeting = meeting_id_of(schedule(officer, today(site)))
        later = meeting_id_of(schedule(officer, today(site) + timedelta(days=7)))
        csrf = token(officer, f"/meetings/{meeting}")
        officer.post(f"/meetings/{meeting}/agenda/all", data={"csrf_token": csrf})
        assert items(site, meeting) == ["SIRG-2026-0001", "SIRG-2026-0002"]
        second = item_id(site, meeting, "SIRG-2026-0002")
        officer.post(
            f"/meetings/{meeting}/items/{second}/move", data={"csrf_token": csrf, "direction": "up"}
        )
        assert items(site, meeting) == ["SIRG-2026-0002", "SIRG-2026-0001"]
        first = item_id(site, meeting, "SIRG-2026-0001")
        officer.post(
            f"/meetings/{meeting}/items/{first}/move-to",
            data={"csrf_token": csrf, "target": str(later)},
        )
        assert items(site, later) == ["SIRG-2026-0001"]
        assert (
            decide(
                officer, meeting, second, "confirm", decision=Decision.RAPID_REVIEW, reason="death"
            ).status_code
            == 303
        )
        body, marks, _tables = pack_text(officer.get(f"/meetings/{meeting}/pack.docx").content)
        assert "SIRG-2026-0002" in body and "OFFICIAL-SENSITIVE" in marks
        admin = site.client("ada")
        with session_scope(engine) as db:
            decision_id = db.exec(select(MeetingDecision.id)).one()
            assert (
                len(db.exec(select(OutboxMessage).where(OutboxMessage.kind == "decision")).all())
                == 3
            )
        csrf = token(admin, f"/meetings/{meeting}")
        admin.post(
            f"/meetings/{meeting}/decisions/{decision_id}/undo",
            data={"csrf_token": csrf, "reason": "typo"},
        )
        with session_scope(engine) as db:
            referral = by_reference(db, "SIRG-2026-0002")
            assert referral is not None and referral.status == READY
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- in a browser

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def shot(page: Any, name: str) -> None:
    """A full-page screenshot, after checking the page with axe-core."""
    accessible(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"meetings-{name}.png"), full_page=True)


def accessible(page: Any) -> None:
    """No axe-core WCAG 2.2 AA violation on the page as it stands."""
    assert axe_violations(page) == [], page.url


def no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


def test_a_meeting_in_the_browser(site: Site, live: str, browser: Any) -> None:
    from playwright.sync_api import expect

    ready(site.engine, "SIRG-2026-0201")
    ready(site.engine, "SIRG-2026-0202", child="Noah Brathwaite")
    # bypass_csp: so axe-core can be added to the page (the app allows no script at all).
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-GB", bypass_csp=True
    )
    page = context.new_page()
    sign_in(page, live, "olly")
    page.get_by_role("link", name="Meetings", exact=True).click()
    page.wait_for_url(f"{live}/meetings")
    assert page.locator('nav a[aria-current="page"]').inner_text() == "Meetings"

    # A meeting without a date is refused, the error tied to the field.
    page.get_by_role("button", name="Schedule meeting").click()
    expect(page.locator(".error-summary")).to_contain_text("Enter the date of the meeting")
    assert page.get_attribute("#meeting_date", "aria-invalid") == "true"
    shot(page, "error")
    page.fill("#meeting_date", today(site).isoformat())
    page.fill("#place_note", "Cunard Building, room 4")
    page.get_by_role("button", name="Schedule meeting").click()
    expect(page.locator(".flash")).to_contain_text("Meeting scheduled")

    # Two Ready referrals onto the agenda: one by hand, then the rest.
    # The next meeting takes the Ready referrals that were waiting for one.
    expect(page.locator(".flash")).to_contain_text("2 Ready referrals put on its agenda")
    agenda_list = page.locator("ol.agenda")
    expect(agenda_list).to_contain_text("SIRG-2026-0201")
    expect(agenda_list).to_contain_text("SIRG-2026-0202")
    assert agenda_list.locator("> li").count() == 2
    shot(page, "agenda")
    page.goto(f"{live}/meetings")
    expect(page.locator("table.stack")).to_contain_text("Cunard Building, room 4")
    shot(page, "list")
    page.go_back()

    # The Word pack downloads and opens; the print view hides the menus when printed.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the meeting pack (Word)").click()
    body, marks, tables = pack_text(Path(download.value.path()).read_bytes())
    assert marks == "OFFICIAL-SENSITIVE|OFFICIAL-SENSITIVE"
    assert "SIRG-2026-0201" in body and "SIRG-2026-0202" in body
    assert CHILD not in body and all(CHILD not in c for t in tables for c in t)
    page.get_by_role("link", name="Print view").click()
    expect(page.locator("h1")).to_contain_text("SIRG meeting pack")
    shot(page, "print")
    page.emulate_media(media="print")
    assert not page.locator("header.top").is_visible()
    page.emulate_media(media="screen")
    page.set_viewport_size({"width": 320, "height": 800})
    no_sideways_scroll(page)
    shot(page, "print-320")
    page.go_back()
    no_sideways_scroll(page)
    shot(page, "meeting-320")
    page.set_viewport_size({"width": 1280, "height": 900})

    # Decisions, each confirmed before it is saved.
    first, second = page.locator("ol.agenda > li").nth(0), page.locator("ol.agenda > li").nth(1)
    first.get_by_label("Child Safeguarding Practice Review (CSPR)").check()
    first.get_by_label("Reason for the decision").fill("Serious harm; agencies did not share")
    first.get_by_role("button", name="Continue to confirm").click()
    expect(page.locator(".confirm")).to_contain_text(
        "You are about to record Child Safeguarding Practice Review (CSPR) for SIRG-2026-0201"
    )
    shot(page, "confirm")
    page.get_by_role("button", name="Confirm and record the decision").click()
    expect(page.locator(".flash")).to_contain_text("Recorded: Child Safeguarding Practice Review")
    second = page.locator("ol.agenda > li").nth(1)
    second.get_by_label("No further action").check()
    second.get_by_label("Reason for the decision").fill("Threshold not met")
    second.get_by_role("button", name="Continue to confirm").click()
    page.get_by_role("button", name="Go back").click()
    second = page.locator("ol.agenda > li").nth(1)
    assert second.get_by_label("No further action").is_checked()
    assert second.get_by_label("Reason for the decision").input_value() == "Threshold not met"
    second.get_by_role("button", name="Continue to confirm").click()
    page.get_by_role("button", name="Confirm and record the decision").click()
    expect(page.locator(".flash")).to_contain_text("Recorded: No further action")
    expect(page.locator("ol.agenda")).to_contain_text("Decision: No further action")
    shot(page, "decided")
    with session_scope(site.engine) as db:
        sent = db.exec(select(OutboxMessage).where(OutboxMessage.kind == "decision")).all()
    assert len(sent) == 6  # the referrer and two representatives, for each referral

    # An admin undoes the first decision, with a reason.
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live, "ada")
    page.goto(f"{live}/meetings")
    page.locator("table.list a").first.click()
    undo_reason = page.get_by_label("Why undo the decision on SIRG-2026-0201")
    undo_reason.fill("Recorded against the wrong case")
    page.get_by_role("button", name="Undo decision for SIRG-2026-0201").click()
    expect(page.locator(".flash")).to_contain_text("SIRG-2026-0201 is Ready for SIRG again")
    expect(page.locator("ol.agenda")).to_contain_text("Undone: Child Safeguarding Practice Review")
    shot(page, "undone")
