"""What is on SIRG meetings' agendas, read as dataclasses: referrals by reference and initials."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Session, col, func, select

from parsers.thread import clean_message_id
from storage.referrals import initials
from storage.tables import AgendaItem, MeetingDecision, OutboxMessage, Referral, SirgMeeting
from storage.threads import latest_message_id, referrer_address
from storage.workflow import CSPR, NFA, PLR, RAPID_REVIEW, READY


class Decision(StrEnum):
    """What SIRG may decide in a meeting: the referral's status codes for those decisions."""

    RAPID_REVIEW = RAPID_REVIEW
    CSPR = CSPR
    PLR = PLR
    NFA = NFA

    @property
    def label(self) -> str:
        """The decision in words, as the chair and the emails say it."""
        return DECISION_LABELS[self]


DECISION_LABELS = {
    Decision.RAPID_REVIEW: "Rapid Review",
    Decision.CSPR: "Child Safeguarding Practice Review (CSPR)",
    Decision.PLR: "Practice Learning Review (PLR)",
    Decision.NFA: "No further action",
}


@dataclass(frozen=True)
class MeetingSummary:
    """A meeting as the list of meetings shows it."""

    id: int
    day: date
    time_note: str
    place_note: str
    items: int
    decided: int


@dataclass(frozen=True)
class DecisionView:
    """A decision recorded in a meeting (undone ones stay, with who undid it and why)."""

    id: int
    decision: Decision
    reason: str
    decided_by: str
    decided_at: datetime
    undone_by: str | None
    undone_at: datetime | None
    undo_reason: str


@dataclass(frozen=True)
class ItemView:
    """One line of an agenda: the referral by reference and initials, never by name."""

    id: int
    referral_id: int
    position: int
    reference: str
    status: str
    urgent: bool
    initials: str
    agency: str
    panel_due: date | None
    rapid_review_due: date | None
    decisions: tuple[DecisionView, ...]

    @property
    def current(self) -> DecisionView | None:
        """The decision that stands (not undone), if any."""
        standing = [d for d in self.decisions if d.undone_at is None]
        return standing[-1] if standing else None


@dataclass(frozen=True)
class Offer:
    """A Ready referral on no upcoming agenda: offered for the next meeting."""

    reference: str
    urgent: bool
    initials: str
    agency: str
    panel_due: date | None


@dataclass(frozen=True)
class Recipient:
    """Who hears of a decision, and the message of theirs it answers (for threading)."""

    address: str
    in_reply_to: str | None
    referrer: bool


def summary(session: Session, meeting: SirgMeeting) -> MeetingSummary:
    """A meeting with its counts of items and standing decisions."""
    assert meeting.id is not None
    items = session.exec(select(func.count()).where(AgendaItem.meeting_id == meeting.id)).one()
    decided = session.exec(
        select(func.count()).where(
            MeetingDecision.meeting_id == meeting.id, col(MeetingDecision.undone_at).is_(None)
        )
    ).one()
    return MeetingSummary(
        meeting.id,
        meeting.meeting_date,
        meeting.time_note or "",
        meeting.place_note or "",
        int(items),
        int(decided),
    )


def meetings(session: Session, today: date) -> tuple[list[MeetingSummary], list[MeetingSummary]]:
    """Upcoming meetings (today on, soonest first), then past ones (latest first)."""
    rows = session.exec(select(SirgMeeting).order_by(col(SirgMeeting.meeting_date))).all()
    upcoming = [summary(session, m) for m in rows if m.meeting_date >= today]
    past = [summary(session, m) for m in reversed(rows) if m.meeting_date < today]
    return upcoming, past


def next_meeting(session: Session, today: date) -> SirgMeeting | None:
    """The soonest meeting from today on: where Ready referrals go by default."""
    return session.exec(
        select(SirgMeeting)
        .where(SirgMeeting.meeting_date >= today)
        .order_by(col(SirgMeeting.meeting_date))
    ).first()


def upcoming_agenda_ids(today: date) -> Any:
    """A subquery: the referrals on the agenda of a meeting from today on."""
    return (
        select(AgendaItem.referral_id)
        .join(SirgMeeting, col(SirgMeeting.id) == col(AgendaItem.meeting_id))
        .where(SirgMeeting.meeting_date >= today)
    )


def offered(session: Session, today: date) -> list[Offer]:
    """Ready referrals on no upcoming agenda (one a past meeting did not decide comes back),
    urgent first, then by Panel notification due."""
    rows = session.exec(
        select(Referral)
        .where(
            Referral.status == READY,
            col(Referral.purged_at).is_(None),
            col(Referral.id).not_in(upcoming_agenda_ids(today)),
        )
        .order_by(col(Referral.urgent).desc(), col(Referral.panel_due), col(Referral.id))
    ).all()
    return [
        Offer(r.reference, r.urgent, initials(r.child_name), r.referrer_agency or "", r.panel_due)
        for r in rows
    ]


def items_of(session: Session, meeting_id: int) -> list[AgendaItem]:
    """A meeting's agenda rows in order."""
    return list(
        session.exec(
            select(AgendaItem)
            .where(AgendaItem.meeting_id == meeting_id)
            .order_by(col(AgendaItem.position), col(AgendaItem.id))
        )
    )


def agenda(session: Session, meeting: SirgMeeting) -> list[ItemView]:
    """The meeting's agenda in order, each item with the decisions recorded on it."""
    assert meeting.id is not None
    items = items_of(session, meeting.id)
    decisions: dict[int, list[DecisionView]] = {}
    for d in session.exec(
        select(MeetingDecision)
        .where(MeetingDecision.meeting_id == meeting.id)
        .order_by(col(MeetingDecision.decided_at), col(MeetingDecision.id))
    ):
        assert d.id is not None
        decisions.setdefault(d.referral_id, []).append(
            DecisionView(
                d.id,
                Decision(d.decision),
                str(d.reason or ""),
                d.decided_by,
                d.decided_at,
                d.undone_by,
                d.undone_at,
                str(d.undo_reason or ""),
            )
        )
    out = []
    for item in items:
        referral = session.get(Referral, item.referral_id)
        assert item.id is not None and referral is not None
        out.append(
            ItemView(
                item.id,
                item.referral_id,
                item.position,
                referral.reference,
                referral.status,
                referral.urgent,
                initials(referral.child_name),
                referral.referrer_agency or "",
                referral.panel_due,
                referral.rapid_review_due,
                tuple(decisions.get(item.referral_id, [])),
            )
        )
    return out


def recipients(session: Session, referral: Referral) -> list[Recipient]:
    """Who is told of a decision: the referrer (answering the newest email of the
    conversation) and each representative alerted about the referral (answering the alert)."""
    assert referral.id is not None
    out: list[Recipient] = []
    referrer = referrer_address(session, referral)
    if referrer:
        thread = clean_message_id(latest_message_id(session, referral))
        out.append(Recipient(referrer.lower(), thread, True))
    alerts = session.exec(
        select(OutboxMessage.to_addr, OutboxMessage.header_message_id)
        .where(OutboxMessage.referral_id == referral.id, OutboxMessage.kind == "alert")
        .order_by(col(OutboxMessage.id))
    ).all()
    for address, header in alerts:
        if address and "@" in address and address.lower() not in {r.address for r in out}:
            out.append(Recipient(address.lower(), header, False))
    return out
