"""The referrals already there before a load run: 5 by the real pipeline, the rest bulk copies."""

from __future__ import annotations

import hashlib
import random
import struct
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import ingest_mail  # puts the project root and tests/ on sys.path
from sqlalchemy import Engine, delete, insert, select, text, update

# Review statuses of the referrals already there, with weights (as bench/review_queue.py).
STATUSES = [
    ("new", 30),
    ("ready_for_sirg", 15),
    ("decision_rapid_review", 5),
    ("decision_cspr", 3),
    ("decision_plr", 5),
    ("decision_single_agency", 5),
    ("decision_nfa", 7),
    ("closed", 15),
]
FIRST = "Lily Noah Amelia Oliver Isla Jack Ava Leo Mia Alfie Freya Harry Ruby Oscar Kai"
LAST = (
    "Kavanagh Brathwaite Nowak Hughes Okafor Doyle Patel Jones Walsh Murphy Byrne Sharma "
    "Kowalski Adeyemi Fitzpatrick Mahmood Lewis Quinn Roberts Zielinski Owens Hassan Ryan"
)


def unique_docx(data: bytes, tag: str) -> bytes:
    """The same Word file with a ZIP comment: other bytes (and SHA-256), same document.

    Each referral then has its own file, as in life, so the review app's layout cache
    (keyed by SHA-256) does not serve 10,000 referrals from five parsed documents.
    """
    end = data.rfind(b"PK\x05\x06")
    if end < 0 or len(data) - end != 22:  # no end record, or it already has a comment
        return data
    comment = tag.encode()[:200]
    return data[: end + 20] + struct.pack("<H", len(comment)) + comment


@dataclass
class Template:
    """One referral made by the real pipeline from a sample email: the rows it wrote."""

    message: dict[str, Any]
    raw: bytes
    attachment: dict[str, Any]
    referral: dict[str, Any]
    link: dict[str, Any]
    ack: dict[str, Any]
    audits: list[dict[str, Any]]


def make_templates(engine: Engine, settings: Any) -> list[Template]:
    """Store and process the sample emails with the real pipeline; read back their rows."""
    from intake.runner import filing_for, process_stored
    from storage import messages
    from storage.tables import (
        Attachment,
        AuditEvent,
        InboundMessage,
        OutboxMessage,
        RawMessage,
        Referral,
        ReferralMessage,
    )

    filing = filing_for(engine, settings)
    for sample in ingest_mail.load_samples():
        raw = sample.raw.replace(b"\n", b"\r\n")
        ident = messages.ServerIdentity("seed", "INBOX", 1, sample.name)
        row = messages.receive(engine, ident, raw, f"<{sample.name}@seed.invalid>", _now())
        process_stored(filing, settings, row, raw)
    out = []
    with engine.begin() as conn:
        conn.execute(update(OutboxMessage).values(status="sent", sent_at=OutboxMessage.created_at))

        def one(table: Any, where: Any) -> dict[str, Any]:
            return dict(conn.execute(select(table).where(where)).mappings().one())

        for referral in conn.execute(select(Referral).order_by(Referral.id)).mappings().all():
            mid = referral["message_id"]
            audits = conn.execute(
                select(AuditEvent).where(
                    ((AuditEvent.entity == "message") & (AuditEvent.entity_id == mid))
                    | ((AuditEvent.entity == "referral") & (AuditEvent.entity_id == referral["id"]))
                )
            ).mappings()
            out.append(
                Template(
                    message=one(InboundMessage, InboundMessage.id == mid),
                    raw=one(RawMessage, RawMessage.message_id == mid)["content"],
                    attachment=one(Attachment, Attachment.id == referral["attachment_id"]),
                    referral=dict(referral),
                    link=one(ReferralMessage, ReferralMessage.referral_id == referral["id"]),
                    ack=one(OutboxMessage, OutboxMessage.referral_id == referral["id"]),
                    audits=[dict(a) for a in audits],
                )
            )
    if not out:
        raise SystemExit("the pipeline made no referral from the sample emails (quarantined?)")
    return out


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Seeder:
    """Copies of the templates as bulk rows: own ids, reference, dates, child and file."""

    templates: list[Template]
    officers: list[str]
    rng: random.Random = field(default_factory=lambda: random.Random(16))
    counters: dict[int, int] = field(default_factory=dict)
    next_id: dict[str, int] = field(default_factory=dict)

    def take(self, table: str) -> int:
        """The next id of `table` (ids are given here and the sequences set after)."""
        self.next_id[table] += 1
        return self.next_id[table]

    def rows(self, copy: int) -> dict[str, list[dict[str, Any]]]:
        """The rows of one copied referral, by table name."""
        from parsers.statutory import UK, due_dates
        from storage.referrals import COLUMN_FOR_KEY, column_value

        t = self.templates[copy % len(self.templates)]
        rng = self.rng
        received = _now() - timedelta(minutes=rng.randint(60, 365 * 24 * 60))
        year = received.astimezone(UK).year
        self.counters[year] = self.counters.get(year, 0) + 1
        reference = f"SIRG-{year}-{self.counters[year]:04d}"
        record = dict(t.referral["record"])
        record["child.name"] = f"{rng.choice(FIRST.split())} {rng.choice(LAST.split())}"
        if t.referral["child_dob"] is not None:  # the needs-info sample gives none
            dob = date(2008, 1, 1) + timedelta(days=rng.randint(0, 17 * 365))
            record["child.dob"] = dob.isoformat()
        sample = ingest_mail.Sample("seed", t.raw.replace(b"\r\n", b"\n"))
        raw, message_id = ingest_mail.make_copy(sample, copy, "seed", tag_sender=False)
        content = unique_docx(t.attachment["content"], f"load-seed-{copy}")
        mid, aid, rid = self.take("inbound_message"), self.take("attachment"), self.take("referral")
        message = t.message | {
            "id": mid, "uid": f"seed-{copy}", "message_id": message_id, "size": len(raw),
            "sha256": hashlib.sha256(raw).hexdigest(), "received_at": received,
            "stored_at": received, "processed_at": received, "server_done": True,
        }  # fmt: skip
        status = "needs_info"
        if t.referral["complete"]:
            status = rng.choice([s for s, w in STATUSES for _ in range(w)])
        referral = t.referral | {
            "id": rid, "reference": reference, "message_id": mid, "attachment_id": aid,
            "record": record, "received_at": received, "created_at": received,
            "status": status, "assigned_to": rng.choice([None, None, *self.officers[:10]]),
        }  # fmt: skip
        referral.update({c: column_value(c, record.get(k)) for k, c in COLUMN_FOR_KEY.items()})
        referral["panel_due"], referral["rapid_review_due"] = due_dates(received)
        ack = t.ack | {
            "id": self.take("outbox"), "inbound_message_id": mid, "referral_id": rid,
            "header_message_id": f"<seed-{copy}.ack@load.invalid>", "in_reply_to": message_id,
            "subject": t.ack["subject"].replace(t.referral["reference"], reference),
            "created_at": received, "sent_at": received, "next_attempt_at": received,
        }  # fmt: skip
        audits = [
            a | {"id": self.take("audit_event"), "at": received,
                 "entity_id": rid if a["entity"] == "referral" else mid}
            for a in t.audits
        ]  # fmt: skip
        return {
            "inbound_message": [message],
            "raw_message": [{"message_id": mid, "content": raw}],
            "attachment": [
                t.attachment
                | {
                    "id": aid,
                    "message_id": mid,
                    "content": content,
                    "size": len(content),
                    "sha256": hashlib.sha256(content).hexdigest(),
                }
            ],  # fmt: skip
            "referral": [referral],
            "referral_message": [
                t.link
                | {
                    "id": self.take("referral_message"),
                    "referral_id": rid,
                    "message_id": mid,
                    "at": received,
                }
            ],  # fmt: skip
            "outbox": [ack],
            "audit_event": audits,
        }


SEED_TABLES = (
    "inbound_message",
    "raw_message",
    "attachment",
    "referral",
    "referral_message",
    "outbox",
    "audit_event",
)


def seed(engine: Engine, settings: Any, total: int, officers: list[str]) -> dict[str, int]:
    """`total` referrals: 5 by the real pipeline, the rest copied from them as bulk rows.

    Returns the highest id of each table afterwards (rows above it were made by the run).
    """
    from sqlmodel import SQLModel

    from storage.tables import ReferenceCounter

    templates = make_templates(engine, settings)
    tables = SQLModel.metadata.tables
    seeder = Seeder(templates, officers)
    with engine.begin() as conn:
        for name in SEED_TABLES:
            if name != "raw_message":
                found = conn.execute(text(f"SELECT max(id) FROM {name}")).scalar()
                seeder.next_id[name] = int(found or 0)
        # The templates took this year's first numbers: the copies carry on from there.
        taken = conn.execute(select(ReferenceCounter.year, ReferenceCounter.last)).all()
        seeder.counters.update({int(y): int(n) for y, n in taken})
    batch: dict[str, list[dict[str, Any]]] = {name: [] for name in SEED_TABLES}
    for copy in range(len(templates), total):
        for name, rows in seeder.rows(copy).items():
            batch[name].extend(rows)
        if len(batch["referral"]) >= 250 or copy == total - 1:
            with engine.begin() as conn:
                for name in SEED_TABLES:
                    if batch[name]:
                        conn.execute(insert(tables[name]), batch[name])
                    batch[name] = []
    with engine.begin() as conn:
        for name in SEED_TABLES:
            if name != "raw_message":
                sequence = f"pg_get_serial_sequence('{name}', 'id')"
                conn.execute(text(f"SELECT setval({sequence}, max(id)) FROM {name}"))
        for year, last in seeder.counters.items():
            conn.execute(delete(ReferenceCounter).where(ReferenceCounter.year == year))
            conn.execute(insert(ReferenceCounter).values(year=year, last=last))
        conn.execute(text("ANALYZE"))
        return {
            name: int(conn.execute(text(f"SELECT coalesce(max(id), 0) FROM {name}")).scalar() or 0)
            for name in SEED_TABLES
            if name != "raw_message"
        }
