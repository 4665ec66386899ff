"""Quarantine page, queue CSV export, possible duplicates and the dashboard."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

from review_support import Site, add_referral, token
from sqlmodel import col, select

from storage import messages
from storage.db import session_scope
from storage.insights import name_key, possible_duplicates, similar_names
from storage.messages import ServerIdentity
from storage.tables import AuditEvent, InboundMessage, Outcome, Referral

VIRUS_EML = b"Subject: invoice\r\n\r\nX5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR\r\n"
BROKEN_EML = b"Subject: broken\r\n\r\nthis one failed\r\n"
REJECTED_EML = b"Subject: no form\r\n\r\nno attachment\r\n"


def _store(site: Site, uid: str, raw: bytes, infected: str | None = None) -> int:
    row = messages.receive(
        site.engine,
        ServerIdentity("test", "INBOX", 1, uid),
        raw,
        f"<{uid}@example.test>",
        datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
        infected=infected,
    )
    assert row.id is not None
    return row.id


def _held(site: Site) -> tuple[int, int, int]:
    """A virus-quarantined message, a failed one and a rejected one (no referral)."""
    virus = _store(site, "q-virus", VIRUS_EML, infected="Eicar-Test-Signature")
    broken = _store(site, "q-broken", BROKEN_EML)
    messages.quarantine(site.engine, broken, "Traceback: boom")
    rejected = _store(site, "q-rejected", REJECTED_EML)
    with session_scope(site.engine) as db:
        row = db.get(InboundMessage, rejected)
        assert row is not None
        row.state, row.outcome = "processed", Outcome.REJECTED
        row.outcome_reason = "no referral form was attached"
        db.add(row)
    return virus, broken, rejected


def _actions(site: Site, actor: str) -> list[tuple[str, str, int]]:
    with session_scope(site.engine) as db:
        return [
            (e.entity, e.action, e.entity_id)
            for e in db.exec(select(AuditEvent).where(AuditEvent.actor == actor))
        ]


# --------------------------------------------------------------------------- quarantine


def test_the_quarantine_page_lists_held_mail_without_offering_a_virus(site: Site) -> None:
    virus, broken, rejected = _held(site)
    page = site.client("olly").get("/quarantine")
    assert page.status_code == 200
    assert "a virus was found (Eicar-Test-Signature)" in page.text
    assert "processing failed; kept for a person to look at" in page.text
    assert "no referral form was attached" in page.text
    assert f'href="/quarantine/{broken}/email"' in page.text
    assert f'href="/quarantine/{rejected}/email"' in page.text
    assert f'href="/quarantine/{virus}/email"' not in page.text
    assert f'action="/quarantine/{broken}/reprocess"' in page.text
    assert f'action="/quarantine/{virus}/reprocess"' not in page.text
    # Officers work the page themselves: no operator commands on it.
    assert "intake reprocess" not in page.text
    assert "EICAR" not in page.text and "<script" not in page.text
    assert ("quarantine", "viewed", 0) in _actions(site, "olly")


def test_an_officer_downloads_an_original_but_never_a_virus(site: Site) -> None:
    virus, broken, rejected = _held(site)
    client = site.client("olly")
    response = client.get(f"/quarantine/{broken}/email")
    assert response.status_code == 200 and response.content == BROKEN_EML
    assert response.headers["content-type"].startswith("message/rfc822")
    assert "attachment" in response.headers["content-disposition"]
    assert client.get(f"/quarantine/{rejected}/email").content == REJECTED_EML
    assert client.get(f"/quarantine/{virus}/email").status_code == 404
    # A referral's email is not served from here (it has its own, audited, address).
    with session_scope(site.engine) as db:
        referral_message = db.exec(select(Referral.message_id)).first()
    assert client.get(f"/quarantine/{referral_message}/email").status_code == 404
    assert ("message", "downloaded email", broken) in _actions(site, "olly")
    assert ("message", "downloaded email", virus) not in _actions(site, "olly")


def test_a_viewer_reads_the_quarantine_page_but_cannot_act(site: Site) -> None:
    _virus, broken, _rejected = _held(site)
    client = site.client("vera")
    page = client.get("/quarantine")
    assert page.status_code == 200 and "processing failed" in page.text
    assert f"/quarantine/{broken}/email" not in page.text
    assert "/reprocess" not in page.text
    assert client.get(f"/quarantine/{broken}/email").status_code == 403
    response = client.post(f"/quarantine/{broken}/reprocess", data={"csrf_token": token(client)})
    assert response.status_code == 403
    assert not [a for a in _actions(site, "vera") if a[1] == "reprocess requested"]


def test_reprocess_reopens_the_message_for_the_worker_and_is_audited(site: Site) -> None:
    virus, broken, rejected = _held(site)
    client = site.client("olly")
    csrf = token(client, "/quarantine")
    page = client.post(f"/quarantine/{broken}/reprocess", data={"csrf_token": csrf})
    assert page.status_code == 200 and "next pass" in page.text
    for other in (virus, rejected):
        page = client.post(f"/quarantine/{other}/reprocess", data={"csrf_token": csrf})
        assert "next pass" not in page.text.split('class="flash"')[1].split("</div>")[0]
    requested = [a for a in _actions(site, "olly") if a[1] == "reprocess requested"]
    assert requested == [("message", "reprocess requested", broken)]
    with session_scope(site.engine) as db:
        row = db.get(InboundMessage, broken)
        assert row is not None and row.state == "received"  # the worker's next pass takes it
    # Without the form's token, nothing is recorded.
    response = client.post(f"/quarantine/{broken}/reprocess", data={"csrf_token": "forged"})
    assert response.status_code == 403


# --------------------------------------------------------------------------- CSV export


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_export_has_the_queue_by_reference_and_no_names(site: Site) -> None:
    add_referral(
        site.engine,
        "SIRG-2026-0200",
        agency='=HYPERLINK("http://evil.example")',
        record={"child.name": "Zebedee Quuxley", "referrer.name": "Rita Referrer"},
        status="decision_plr",
    )
    with session_scope(site.engine) as db:
        referral = db.exec(select(Referral).where(Referral.reference == "SIRG-2026-0200")).one()
        referral.decision_date = date(2026, 11, 16)
        db.add(referral)
        names = [n for n in db.exec(select(Referral.child_name)) if n]
        referrers = [n for n in db.exec(select(Referral.referrer_name)) if n]
    client = site.client("vera")
    response = client.get("/export.csv?status=all")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = _csv(response.text)
    assert list(rows[0]) == [
        "reference",
        "received",
        "agency",
        "urgent",
        "status",
        "complete",
        "assignee",
        "panel_due",
        "rapid_review_due",
        "decision_date",
    ]
    assert len(rows) == len(names) and len(names) >= 6
    for name in [*names, *referrers]:
        assert name not in response.text, name
    mine = next(r for r in rows if r["reference"] == "SIRG-2026-0200")
    assert mine["agency"].startswith("'=")  # stays text in a spreadsheet
    assert mine["decision_date"] == "2026-11-16"
    assert mine["status"] == "Decision: PLR"
    assert ("queue", "exported", 0) in _actions(site, "vera")


def test_the_csv_export_keeps_the_queue_filters(site: Site) -> None:
    add_referral(site.engine, "SIRG-2026-0201", agency="Only Agency", urgent=True)
    add_referral(site.engine, "SIRG-2026-0202", agency="Only Agency", status="closed")
    client = site.client("vera")
    rows = _csv(client.get("/export.csv?agency=Only+Agency").text)
    assert [r["reference"] for r in rows] == ["SIRG-2026-0201"]  # open only, by default
    rows = _csv(client.get("/export.csv?agency=Only+Agency&status=all&sort=reference").text)
    assert [r["reference"] for r in rows] == ["SIRG-2026-0201", "SIRG-2026-0202"]
    assert rows[0]["urgent"] == "yes"
    page = client.get("/?agency=Only+Agency")
    assert 'href="/export.csv?status=open&amp;urgency=all&amp;agency=Only+Agency' in page.text


# --------------------------------------------------------------------------- duplicates


def _with_dob(site: Site, reference: str, name: str, dob: date | None) -> int:
    rid = add_referral(site.engine, reference, record={"child.name": name})
    with session_scope(site.engine) as db:
        referral = db.get(Referral, rid)
        assert referral is not None
        referral.child_dob = dob
        db.add(referral)
    return rid


def test_names_compare_without_case_accents_hyphens_or_apostrophes() -> None:
    assert name_key("  Zoë  O’Brien-Smith ") == "zoe o brien smith"
    assert similar_names("Zoë O'Brien-Smith", "ZOE OBRIEN SMITH")
    assert similar_names("Jayden Murphy", "Jaden Murphy")
    assert not similar_names("Jayden Murphy", "Olivia Murphy")
    assert not similar_names("", "")


def test_possible_duplicates_by_date_of_birth_and_a_similar_name(site: Site) -> None:
    dob = date(2015, 3, 4)
    first = _with_dob(site, "SIRG-2026-0300", "Zoë O'Brien", dob)
    _with_dob(site, "SIRG-2026-0301", "Zoe OBrien", dob)  # without the accent: the same
    _with_dob(site, "SIRG-2026-0302", "zoe o-brien", None)  # same name, no date of birth
    _with_dob(site, "SIRG-2026-0303", "Zoë O'Brien", date(2016, 3, 4))  # another child
    _with_dob(site, "SIRG-2026-0304", "Amelia Watson", dob)  # same birthday, other name
    with session_scope(site.engine) as db:
        referral = db.get(Referral, first)
        assert referral is not None
        found = [r.reference for r in possible_duplicates(db, referral)]
        assert found == ["SIRG-2026-0301", "SIRG-2026-0302"]
        other = db.exec(select(Referral).where(Referral.reference == "SIRG-2026-0301")).one()
        assert [r.reference for r in possible_duplicates(db, other)] == ["SIRG-2026-0300"]
    page = site.client("vera").get("/referrals/SIRG-2026-0300")
    assert "Possible duplicates" in page.text
    assert 'href="/referrals/SIRG-2026-0301"' in page.text
    assert 'href="/referrals/SIRG-2026-0302"' in page.text
    assert 'href="/referrals/SIRG-2026-0303"' not in page.text
    assert 'href="/referrals/SIRG-2026-0304"' not in page.text
    alone = site.client("vera").get("/referrals/SIRG-2026-0304")
    assert "Possible duplicates" not in alone.text


# --------------------------------------------------------------------------- dashboard


def _row(html: str, name: str) -> list[int]:
    match = re.search(r'<tr><th scope="row">' + re.escape(name) + r"</th>(.*?)</tr>", html)
    assert match, name
    return [int(v) for v in re.findall(r'<td class="num">(\d+)</td>', match.group(1))]


def test_the_dashboard_counts_match_the_data(site: Site) -> None:
    site.clock.now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    monday = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    for n, (status, decided) in enumerate(
        [
            ("decision_plr", date(2026, 11, 16)),  # 10 working days
            ("decision_plr", date(2026, 11, 24)),  # 16 working days: late
            ("new", None),
        ]
    ):
        rid = add_referral(
            site.engine,
            f"SIRG-2026-04{n:02d}",
            agency="Dash Agency",
            received=monday,
            status=status,
        )
        with session_scope(site.engine) as db:
            referral = db.get(Referral, rid)
            assert referral is not None
            referral.decision_date = decided
            db.add(referral)
    add_referral(
        site.engine,
        "SIRG-2026-0499",
        agency="Dash Agency",
        received=datetime(2026, 9, 14, 9, 0, tzinfo=UTC),
    )
    # Older than twelve months: not counted.
    add_referral(
        site.engine,
        "SIRG-2024-0001",
        agency="Dash Agency",
        received=datetime(2024, 1, 5, tzinfo=UTC),
    )
    page = site.client("vera").get("/dashboard")
    assert page.status_code == 200
    assert 'href="/dashboard"' in page.text  # in the page header
    assert "<svg" in page.text and "<script" not in page.text and "style=" not in page.text
    dash = _row(page.text, "Dash Agency")
    assert len(dash) == 12  # Dec 25 .. Nov 26
    assert dash[-1] == 3 and dash[-3] == 1 and sum(dash) == 4
    plr = _row(page.text, "Decision: PLR")
    assert plr[-1] == 2 and sum(plr) == 2
    with session_scope(site.engine) as db:
        since = datetime(2025, 12, 1, tzinfo=UTC)
        # The twelve months end with November 2026; the site's own referrals are received
        # on the real date, which may be later.
        until = datetime(2026, 12, 1, tzinfo=UTC)
        received = col(Referral.received_at)
        recent = db.exec(select(Referral.id).where(received >= since, received < until)).all()
    totals = re.search(r"<tfoot>\s*<tr><th scope=\"row\">Total</th>(.*?)</tr>", page.text, re.S)
    assert totals
    assert sum(int(v) for v in re.findall(r"<td class=\"num\">(\d+)</td>", totals.group(1))) == len(
        recent
    )
    timing = _row(page.text, "Decisions")
    assert timing == [0, 1, 0, 1, 0]  # 0–5, 6–10, 11–15, 16–20, 21+
    assert "<strong>1</strong> within the 15-working-day statutory clock" in page.text
    assert ("dashboard", "viewed", 0) in _actions(site, "vera")
