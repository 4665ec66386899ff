"""Replies and SIRG alerts, end to end through the runner to a real SMTP server."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from intake.runner import run_once
from intake.sources.maildir import MaildirSource
from intake.wiring import make_transport, open_database
from parsers.formdef import load_form
from servers.intake_config import settings_for
from servers.smtp import CapturedMessage, SmtpServer

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
ROUTING = """
internal_domains = ["liverpool.gov.uk"]
[[representatives]]
name = "Chair"
email = "chair@liverpool.gov.uk"
agency = "LSCP"
role = "chair"
alerts = "none"
[[representatives]]
name = "Everyone"
email = "all@liverpool.gov.uk"
agency = "LSCP"
alerts = "all"
[[representatives]]
name = "Police"
email = "police@merseyside.police.uk"
agency = "Merseyside Police"
alerts = "agency"
[[representatives]]
name = "Schools"
email = "schools@liverpool.gov.uk"
agency = "Education"
alerts = "agency"
match_agencies = ["School", "Academy"]
"""


def expected(name: str) -> dict:
    return json.loads((SAMPLES / "maildir" / "EXPECTED.json").read_text())[name]


def form_fields(name: str) -> dict:
    form = expected(name)["forms"][0]
    return json.loads((SAMPLES / "forms" / f"{Path(form).stem}.expected.json").read_text())


def run(tmp_path: Path, smtp: SmtpServer, sample: str) -> list[CapturedMessage]:
    routing = tmp_path / "routing.toml"
    routing.write_text(ROUTING)
    settings = settings_for(tmp_path, None, smtp, routing_file=routing)
    source = MaildirSource(settings.resolved_maildir)
    shutil.copyfile(
        SAMPLES / "maildir" / "new" / sample, settings.resolved_maildir / "new" / sample
    )
    engine = open_database(settings)
    report = run_once(engine, settings, source, make_transport(settings))
    engine.dispose()
    assert report.errors == 0 and report.delivery.dead == 0
    return list(smtp.messages)


def by_recipient(got: list[CapturedMessage]) -> dict[str, CapturedMessage]:
    assert all(len(m.rcpt_tos) == 1 for m in got)
    recipients = [m.rcpt_tos[0].lower() for m in got]
    assert len(recipients) == len(set(recipients)), "someone was mailed twice"
    return {m.rcpt_tos[0].lower(): m for m in got}


def test_urgent_police_referral_acknowledged_and_alerts_chair_all_and_police(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    fields = form_fields("0001.police")
    assert "Abuse or neglect is known or suspected" in fields["criteria"]  # urgent sample
    assert "The child has been seriously harmed" in fields["criteria"]
    got = by_recipient(run(tmp_path, smtp_server, "0001.police"))
    referrer = fields["referrer.email"]
    # all: every referral; police: its own agency refers; chair: urgent; schools: no match.
    assert set(got) == {
        referrer,
        "chair@liverpool.gov.uk",
        "all@liverpool.gov.uk",
        "police@merseyside.police.uk",
    }
    ack = got[referrer].message
    assert "SIRG-" in ack["Subject"] and ack["Auto-Submitted"] == "auto-replied"
    chair = got["chair@liverpool.gov.uk"].message
    assert chair["Subject"].startswith("URGENT")
    assert chair["Auto-Submitted"] == "auto-generated"


def test_non_urgent_school_referral_alerts_by_rule_and_not_the_chair(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    fields = form_fields("0003.school")
    assert "Abuse or neglect is known or suspected" not in fields["criteria"]  # not urgent
    agencies = [a["agency"] for a in fields["agencies"]]
    assert "Merseyside Police" in agencies  # police are among the agencies involved
    got = by_recipient(run(tmp_path, smtp_server, "0003.school"))
    assert set(got) == {
        fields["referrer.email"],
        "all@liverpool.gov.uk",
        "schools@liverpool.gov.uk",
        "police@merseyside.police.uk",
    }
    assert not got["all@liverpool.gov.uk"].message["Subject"].startswith("URGENT")


def test_needs_info_reply_lists_exactly_the_missing_mandatory_fields_by_label(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    missing_keys = expected("0004.needs-info")["missing"]
    form = load_form()
    labels = [form.field(k).label.strip().removesuffix("*").strip() for k in missing_keys]
    fields = form_fields("0004.needs-info")
    got = by_recipient(run(tmp_path, smtp_server, "0004.needs-info"))
    reply = got[fields["referrer.email"]].message
    assert "more information needed" in reply["Subject"]
    text = reply.get_body(("plain",)).get_content()
    listed = [
        line.strip()[2:].rsplit(" (", 1)[0] for line in text.splitlines() if line.startswith("  - ")
    ]
    assert listed == labels
