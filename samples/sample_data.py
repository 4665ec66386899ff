"""Contents of the sample referral forms (all people, places and numbers are fictional).

Phone numbers are in Ofcom's drama ranges (0151 496 0xxx, 0117 496 0xxx, 020 7946 0xxx,
07700 900xxx); NHS numbers start 999 and carry a valid mod-11 check digit.

A value is either the text exactly as typed into the form, or ``S(shown, value)`` when what is
typed differs from what must be extracted. Dates are written as ISO strings and typed in the
sample's ``date_style`` unless given as ``S``. Grids are lists of row dicts (``None`` = an
empty row left between filled rows).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class S:
    """A value as the sender typed it (``shown``) and as it must be extracted (``value``)."""

    shown: str
    value: str


Value = str | S
Row = dict[str, Value] | None  # None: an empty row left between filled rows


@dataclass
class FormSample:
    """One sample form: what is written into it and how."""

    name: str  # file stem in samples/forms
    description: str
    writer: str  # "cc" (content controls), "typed" or "legacy"
    fields: dict[str, Any]  # key -> Value | list[str] (multi-choice) | list[Row] (grids)
    date_style: str = "dmy"  # how dates are typed unless given as S(...)
    author: str = ""  # docProps lastModifiedBy
    modified: str = "2024-01-01T09:00:00Z"
    # typed forms: how ticks are shown ("glyph" ☒, "x" X, "tick" ✓, "delete" other options
    # removed); per-key overrides; capitals for the remaining option in "delete" style.
    tick: str = "glyph"
    tick_by_key: dict[str, str] = field(default_factory=dict)
    caps: bool = False
    line_breaks: str = "p"  # typed multi-line answers: "p" paragraphs or "br" line breaks
    leftover_placeholders: tuple[str, ...] = ()  # typed: placeholder text left as plain text
    split_runs: tuple[str, ...] = ()  # keys whose text is split over several runs
    label_edits: dict[str, str] = field(default_factory=dict)  # original label -> new text
    nfd: bool = False  # write all text in Unicode NFD
    delete_unused_rows: bool = False
    # legacy forms: checkboxes ticked through <w:default w:val="1"/> rather than <w:checked/>,
    # and keys whose multi-line answer spans several paragraphs inside one field.
    legacy_default_checked: tuple[str, ...] = ()
    legacy_paragraph_keys: tuple[str, ...] = ()

    @property
    def referrer(self) -> str:
        return unicodedata.normalize("NFC", raw(self.fields["referrer.name"]))


def raw(v: Value) -> str:
    return v.value if isinstance(v, S) else v


def household(
    name: str, rel: str, dob: Any = None, address: Any = None, pr: Any = None
) -> dict[str, Any]:
    row = {"name": name, "relationship": rel, "dob": dob, "address": address}
    row["parental_responsibility"] = pr
    return {k: v for k, v in row.items() if v is not None}


def agency(name: str, who: Any = None, contact: Any = None, now: Any = None) -> dict[str, Any]:
    row = {"agency": name, "practitioner": who, "contact": contact, "currently_involved": now}
    return {k: v for k, v in row.items() if v is not None}


def event(when: Any, what: str) -> dict[str, Any]:
    return {"date": when, "event": what}


def processes(**answers: Any) -> dict[str, Any]:
    """processes(police_investigation=("Yes", "Crime ref ...")) -> flat section 6 keys."""
    out: dict[str, Any] = {}
    for name, answer in answers.items():
        status, details = answer if isinstance(answer, tuple) else (answer, None)
        if status is not None:
            out[f"parallel_processes.{name}.status"] = status
        if details is not None:
            out[f"parallel_processes.{name}.details"] = details
    return out


HARMED = "The child has been seriously harmed"
DIED = "The child has died"
ABUSE = "Abuse or neglect is known or suspected"
AGENCIES = "There are concerns about how agencies worked together"
LAC_DEATH = "Death of a looked-after child or care leaver (under 25)"
LEARNING = "The case may offer learning or good practice below the CSPR threshold"
LCC_CS = "Liverpool City Council Children's Services"


# ---------------------------------------------------------------------------
# cc-: content controls filled as Word does
# ---------------------------------------------------------------------------

CC_POLICE = FormSample(
    name="cc-police-window-fall",
    description="Merseyside Police; content controls, multi-line answers with line breaks",
    writer="cc",
    date_style="dmy",
    modified="2024-11-14T10:41:00Z",
    split_runs=("learning", "referrer.safeguarding_lead_contact"),
    fields={
        "referrer.name": "Siobhán Mulcahy",
        "referrer.job_title": "Detective Sergeant, Vulnerability Investigation Team",
        "referrer.agency": "Merseyside Police",
        "referrer.address": "Vulnerability Investigation Team\nMarlowe House\n"
        "41 Tithebarn Lane\nLiverpool\nL3 7RN",
        "referrer.phone": "0151 496 0217",
        "referrer.email": "Siobhan.Mulcahy@merseyside.police.uk",
        "referrer.referral_date": "2024-11-14",
        "referrer.discussed_with_safeguarding_lead": "Yes",
        "referrer.safeguarding_lead_name": "DI Marcus Fairbrother",
        "referrer.safeguarding_lead_contact": "Detective Inspector, Vulnerability Investigation "
        "Team, Merseyside Police – 0151 496 0288 – marcus.fairbrother@merseyside.police.uk",
        "child.name": "Lily-Mae Kavanagh",
        "child.aliases": "Lily-Mae Dunne",
        "child.dob": "2020-06-19",
        "child.gender": "Female",
        "child.ethnicity": "White – British",
        "child.address": "Flat 3, 27 Cresswell Court, Kirkdale, Liverpool, L4 6TB",
        "child.nhs_number": S("999 402 6178", "9994026178"),
        "child.school": "Little Acorns Nursery, Kirkdale (15 funded hours)",
        "child.incident_date": "2024-11-06",
        "child.legal_status": ["Child in need"],
        "child.open_to_csc": "Yes",
        "household": [
            household("Chantelle Kavanagh", "Mother", "1999-02-11", "Same as child", "Yes"),
            household("Dean Dunne", "Father", "1996-09-30", "No fixed abode", "Yes"),
            household("Tyler Kavanagh", "Half-brother", "2017-04-02", "Same as child"),
            household(
                "Brenda Kavanagh",
                "Maternal grandmother",
                "1971-12-05",
                "12 Penrhyn Close, Walton, Liverpool, L9 1HZ",
                "No",
            ),
        ],
        "agencies": [
            agency(LCC_CS, "Priya Chaudhry (social worker)", "0151 496 0531", "Yes"),
            agency(
                "Mersey Care NHS Foundation Trust – Health Visiting",
                "Rebecca Ashworth",
                "0151 496 0744, rebecca.ashworth@nhs.net",
                "Yes",
            ),
            agency(
                "Little Acorns Nursery", "Jo Whitfield (nursery manager)", "0151 496 0903", "Yes"
            ),
        ],
        "criteria": [HARMED, ABUSE, AGENCIES],
        "review_type": "Rapid Review",
        "summary": "On 6 November 2024 Lily-Mae (4 years) fell from the first-floor bedroom "
        "window of the family flat onto a concrete path. She sustained a fractured skull and a "
        "broken arm and was admitted to the paediatric intensive care unit.\n"
        "Officers attending found that the window restrictor had been removed, that no adult "
        "was awake in the flat and that home conditions were very poor (dog faeces on the "
        "floors, no food in the kitchen, no bedding on the children's beds).\n"
        "Lily-Mae has been open to Children's Services as a child in need since July 2024 "
        "because of neglect and her mother's alcohol misuse.",
        "learning": "Whether the child in need plan identified the risk of cumulative neglect, "
        "how home conditions were assessed during announced visits, and how information about "
        "the mother's relapse was shared between the nursery, health visiting and children's "
        "social care.",
        "key_dates": [
            event("2024-07-15", "Child in need plan started (neglect)"),
            event("2024-09-24", "Nursery raises concerns about hygiene and late collection"),
            event("2024-10-18", "Health visitor visit cancelled by mother"),
            event("2024-11-06", "Fall from window; admitted to PICU"),
        ],
        **processes(
            police_investigation=("Yes", "Crime ref 41K228713/24 – child neglect"),
            criminal_proceedings="Not known",
            coroners_inquest="No",
            cdop_notified="No",
            domestic_homicide_review="No",
            safeguarding_adults_review="No",
            family_court_proceedings="Not known",
            single_agency_review=("Yes", "Children's Services management review started"),
        ),
        "notifications.national_panel_notified": "Yes",
        "notifications.national_panel_date": "2024-11-08",
        "notifications.ofsted_notified": "Yes",
        "notifications.other_local_authorities": "No",
        "notifications.media_interest": "Yes",
        "authorisation.manager_name": "Marcus Fairbrother",
        "authorisation.manager_role": "Detective Inspector, Vulnerability Investigation Team",
        "authorisation.date": "2024-11-14",
    },
)

CC_HEALTH = FormSample(
    name="cc-health-sudi",
    description="NHS Cheshire and Merseyside (nhs.net); content controls; a child death",
    writer="cc",
    date_style="long",
    modified="2024-05-21T15:02:00Z",
    fields={
        "referrer.name": "Ngozi Okonkwo-Reid",
        "referrer.job_title": "Designated Nurse, Safeguarding Children",
        "referrer.agency": "NHS Cheshire and Merseyside Integrated Care Board",
        "referrer.address": "Safeguarding Team, 3rd Floor, Brunswick Quay House, "
        "19 Dock Road, Liverpool, L3 4FG",
        "referrer.phone": "0151 496 0462",
        "referrer.email": "ngozi.okonkwo-reid@nhs.net",
        "referrer.referral_date": "2024-05-21",
        "referrer.discussed_with_safeguarding_lead": "Yes",
        "referrer.safeguarding_lead_name": "Helen Brightwater",
        "referrer.safeguarding_lead_contact": "Deputy Director of Nursing and Quality, "
        "NHS Cheshire and Merseyside\n0151 496 0470\nhelen.brightwater@nhs.net",
        "child.name": "Reggie Thornton",
        "child.dob": "2024-02-27",
        "child.gender": "Male",
        "child.ethnicity": "White – British",
        "child.address": "44 Cranbourne Walk, Speke, Liverpool, L24 3PX",
        "child.nhs_number": "9997302915",
        "child.school": "Not applicable (infant)",
        "child.incident_date": "2024-04-16",
        "child.death_date": "2024-04-16",
        "child.legal_status": ["None known"],
        "child.open_to_csc": "No",
        "household": [
            household("Kayleigh Thornton", "Mother", "2004-08-14", "Same as child", "Yes"),
            household("Jordan Price", "Father", "2002-01-23", "Same as child", "Yes"),
            household("Maisie Thornton", "Sister", "2021-10-09", "Same as child"),
        ],
        "agencies": [
            agency(
                "Mersey Care NHS Foundation Trust – Health Visiting",
                "Aleksandra Nowak",
                "0151 496 0377",
                "Yes",
            ),
            agency(
                "Garston Lane Medical Centre (GP)", "Dr Hamish Lindqvist", "0151 496 0815", "Yes"
            ),
            agency(
                "Liverpool Women's NHS Foundation Trust (midwifery)",
                "Carys Pemberton",
                "0151 496 0652\ncarys.pemberton@nhs.net",
                "No",
            ),
        ],
        "criteria": [DIED, LEARNING],
        "review_type": "Practice Learning Review",
        "summary": "Reggie (7 weeks) was found unresponsive at 06:40 on 16 April 2024 after "
        "co-sleeping on a sofa with his father. He was pronounced dead in the Emergency "
        "Department at 07:25.\n"
        "Both parents told police that they had drunk alcohol the previous evening. Safe sleep "
        "advice was recorded at the new birth visit, but there is no record of it being "
        "repeated at the 6–8 week contact.\n"
        "There were no known safeguarding concerns before Reggie's death.",
        "learning": "How safe sleep advice is given and reinforced when parents' circumstances "
        "change (alcohol, sofa sleeping, overcrowding).\n"
        "Whether the safer sleep assessment was used by midwifery, health visiting and the GP "
        "practice, and how the 6–8 week contacts are shared between them.",
        "key_dates": [
            event("2024-02-27", "Reggie born at Liverpool Women's Hospital"),
            event("2024-03-12", "New birth visit – safe sleep advice given"),
            event("2024-04-10", "6–8 week check at the GP practice"),
            event("2024-04-16", "Found unresponsive at home; pronounced dead"),
        ],
        **processes(
            police_investigation=("Yes", "Merseyside Police SUDI investigation 26M114309/24"),
            criminal_proceedings="No",
            coroners_inquest=("Yes", "Inquest opened and adjourned on 25 April 2024"),
            cdop_notified=("Yes", "CDOP ref CM-2024-0147"),
            domestic_homicide_review="No",
            safeguarding_adults_review="No",
            family_court_proceedings="No",
            single_agency_review="Not known",
        ),
        "notifications.national_panel_notified": "No",
        "notifications.ofsted_notified": "No",
        "notifications.other_local_authorities": "None",
        "notifications.media_interest": "No",
        "authorisation.manager_name": "Helen Brightwater",
        "authorisation.manager_role": "Deputy Director of Nursing and Quality",
        "authorisation.date": "2024-05-21",
    },
)

CC_SCHOOL = FormSample(
    name="cc-school-overdose",
    description="Secondary school DSL; content controls, some rows left empty",
    writer="cc",
    date_style="abbr",
    modified="2024-03-08T13:27:00Z",
    fields={
        "referrer.name": "Łukasz Zieliński",
        "referrer.job_title": "Assistant Headteacher and Designated Safeguarding Lead",
        "referrer.agency": "Dovecot Park High School",
        "referrer.address": "Dovecot Park High School, Grangemoor Road, Liverpool, L14 2DP",
        "referrer.phone": "0151 496 0940",
        "referrer.email": "l.zielinski@dovecotpark.liverpool.sch.uk",
        "referrer.referral_date": "2024-03-08",
        "referrer.discussed_with_safeguarding_lead": "Yes",
        "referrer.safeguarding_lead_name": "Bernadette Costigan (Headteacher)",
        "referrer.safeguarding_lead_contact": "Dovecot Park High School, 0151 496 0941, "
        "head@dovecotpark.liverpool.sch.uk",
        "child.name": "Zoë Ashcroft",
        "child.dob": "2010-01-30",
        "child.gender": "Female",
        "child.ethnicity": "Mixed – White and Black African",
        "child.address": "9 Larkhill Grove, Dovecot, Liverpool, L14 9QW",
        "child.nhs_number": "9992659084",
        "child.school": "Dovecot Park High School (Year 9)",
        "child.incident_date": "2024-02-26",
        "child.legal_status": ["Child in need"],
        "child.open_to_csc": "Yes",
        "household": [
            household("Natalie Ashcroft", "Mother", "1986-05-03", "Same as child", "Yes"),
            household("Kofi Mensah", "Stepfather", "1983-11-17", "Same as child", "No"),
            household("Eli Ashcroft", "Brother", "2015-07-22", "Same as child"),
        ],
        "agencies": [
            agency(
                "Dovecot Park High School",
                "Łukasz Zieliński (DSL)",
                "0151 496 0940",
                "Yes",
            ),
            agency("Alder Hey CAMHS", "Dr Imogen Thackeray", "0151 496 0128", "Yes"),
            agency(
                LCC_CS,
                "Rashida Begum (social worker)",
                "0151 496 0571, rashida.begum@liverpool.gov.uk",
                "Yes",
            ),
            agency("Merseyside Police", "PC Daniel Eze (school liaison)", "0151 496 0299", "No"),
        ],
        "criteria": [HARMED, AGENCIES],
        "review_type": "Rapid Review",
        "summary": "On the evening of 26 February 2024 Zoë (14 years) took a large overdose of "
        "paracetamol at home after intimate images of her were shared in a group chat used by "
        "pupils. She was treated in intensive care and is now an inpatient on a mental health "
        "ward.\n"
        "Zoë told her form tutor on 9 February that an older boy she had met online was "
        "pressuring her to send images. The disclosure was logged but the referral to Careline "
        "was not made until 20 February.\n"
        "Zoë has been known to CAMHS since October 2023 with low mood and self-harm.",
        "learning": "The delay between a disclosure in school and the referral to Careline; how "
        "online harm and image sharing are responded to by school, police and CAMHS; and "
        "whether CAMHS and the school shared information after Zoë missed two appointments.",
        "key_dates": [
            event("2023-10-04", "CAMHS assessment – low mood and self-harm"),
            event("2024-01-15", "Second missed CAMHS appointment"),
            event("2024-02-09", "Disclosure to form tutor about online pressure"),
            event("2024-02-20", "Referral to Careline"),
            event("2024-02-26", "Overdose; admitted to intensive care"),
        ],
        **processes(
            police_investigation=("Yes", "Image sharing investigation 15T093388/24"),
            criminal_proceedings="Not known",
            coroners_inquest="No",
            cdop_notified="No",
            family_court_proceedings="No",
            single_agency_review=(
                "Yes",
                "Independent safeguarding audit commissioned by the governing body",
            ),
        ),
        "notifications.national_panel_notified": "Not known",
        "notifications.ofsted_notified": "No",
        "notifications.other_local_authorities": "Knowsley – the older boy lives in Huyton",
        "notifications.media_interest": "No",
        "authorisation.manager_name": "Bernadette Costigan",
        "authorisation.manager_role": "Headteacher",
        "authorisation.date": "2024-03-08",
    },
)

CC_SOCIAL_CARE = FormSample(
    name="cc-socialcare-care-leaver",
    description="Liverpool City Council Leaving Care Service; content controls; care leaver death",
    writer="cc",
    date_style="dmy",
    modified="2024-08-02T16:55:00Z",
    fields={
        "referrer.name": "Rhiannon Pryce-Williams",
        "referrer.job_title": "Team Manager, Leaving Care Service",
        "referrer.agency": LCC_CS,
        "referrer.address": "Leaving Care Service, 2nd Floor, Bramley House, 18 Chapel Walk, "
        "Liverpool, L2 5RT",
        "referrer.phone": "0151 496 0855",
        "referrer.email": "rhiannon.pryce-williams@liverpool.gov.uk",
        "referrer.referral_date": "2024-08-02",
        "referrer.discussed_with_safeguarding_lead": "Yes",
        "referrer.safeguarding_lead_name": "Tomasz Kowalczyk",
        "referrer.safeguarding_lead_contact": "Head of Service, Children in Care and Care "
        "Leavers, Liverpool City Council\n0151 496 0860\ntomasz.kowalczyk@liverpool.gov.uk",
        "child.name": "Connor McAllister",
        "child.aliases": "Con",
        "child.dob": "2005-03-12",
        "child.gender": "Male",
        "child.ethnicity": "White – Irish",
        "child.address": "Room 6, Harbour View Supported Lodgings, 3 Wapping Quay Road, "
        "Liverpool, L3 4BN",
        "child.nhs_number": "9999074626",
        "child.school": "Not in education, employment or training",
        "child.incident_date": "2024-07-19",
        "child.death_date": "2024-07-19",
        "child.legal_status": ["Care leaver"],
        "child.open_to_csc": "Yes",
        "household": [
            household(
                "Sharon McAllister",
                "Mother",
                "1978-06-29",
                "14 Dunbar Road, Anfield, Liverpool, L4 2SD",
                "No",
            ),
            household("Kieran McAllister", "Brother", "2008-01-07", "In foster care (Sefton)"),
        ],
        "agencies": [
            agency(
                "Liverpool City Council Leaving Care Service",
                "Owen Griffiths (personal adviser)",
                "0151 496 0873",
                "Yes",
            ),
            agency(
                "Change Grow Live (drug and alcohol service)",
                "Farah Siddiqui",
                "0151 496 0991, farah.siddiqui@cgl.org.uk",
                "Yes",
            ),
            agency(
                "Harbour View Supported Lodgings", "Gail Merriman (manager)", "0151 496 0166", "Yes"
            ),
            agency("Mersey Care NHS Foundation Trust – Mental Health Liaison", now="No"),
        ],
        "criteria": [DIED, LAC_DEATH],
        "review_type": "Child Safeguarding Practice Review",
        "summary": "Connor (19 years) was found dead in his room at his supported lodgings on "
        "19 July 2024. Police believe he died of a drug overdose; post-mortem results are "
        "awaited.\n"
        "Connor came into care at 11 and had 14 placements, two of them outside Liverpool. He "
        "left care at 18 and was supported by a personal adviser.\n"
        "In the month before his death Connor told his personal adviser that he owed money to "
        "a local dealer and was frightened to go out.",
        "learning": "Support for care leavers with substance misuse and exploitation risks after "
        "18, the move from children's to adult services, and how concerns about debt bondage "
        "were shared with the police.",
        "key_dates": [
            event("2016-05-03", "Became looked after"),
            event("2023-03-12", "18th birthday; moved to supported lodgings"),
            event("2024-06-21", "Tells personal adviser he owes money to a dealer"),
            event("2024-07-19", "Found dead in his room"),
        ],
        **processes(
            police_investigation=("Yes", "Unexplained death, ref 19Q367520/24"),
            criminal_proceedings="Not known",
            coroners_inquest=("Yes", "Inquest opened on 29 July 2024"),
            cdop_notified=("No", "Not applicable – Connor was over 18"),
            domestic_homicide_review="No",
            safeguarding_adults_review=(
                "Not known",
                "To be considered by the Safeguarding Adults Board",
            ),
            family_court_proceedings="No",
            single_agency_review=("Yes", "Leaving Care Service internal review"),
        ),
        "notifications.national_panel_notified": "Yes",
        "notifications.national_panel_date": "2024-07-24",
        "notifications.ofsted_notified": "Yes",
        "notifications.other_local_authorities": "Sefton Council (Kieran's placement) and "
        "Wirral Council (an earlier placement)",
        "notifications.media_interest": "Yes",
        "authorisation.manager_name": "Tomasz Kowalczyk",
        "authorisation.manager_role": "Head of Service, Children in Care and Care Leavers",
        "authorisation.date": "2024-08-02",
    },
)

CC_NEEDS_INFO = FormSample(
    name="cc-needs-info-early-help",
    description="Early Help; content controls; several mandatory fields left as placeholders",
    writer="cc",
    date_style="dmy",
    modified="2024-06-12T11:18:00Z",
    fields={
        "referrer.name": "Gráinne Moriarty",
        "referrer.job_title": "Early Help Practitioner",
        "referrer.agency": "Liverpool City Council Early Help – North Family Hub",
        "referrer.address": "North Family Hub, 77 Breckside Road, Liverpool, L5 4NE",
        "referrer.email": "grainne.moriarty@liverpool.gov.uk",
        "referrer.referral_date": "2024-06-12",
        "child.name": "Kacper Mazur",
        "child.age": "About 9 – date of birth to be confirmed",
        "child.gender": "Male",
        "child.ethnicity": "White – Polish",
        "child.address": "21 Saxony Road, Kensington, Liverpool, L7 8RU",
        "child.school": "Brecks Lane Primary School",
        "child.incident_date": "2024-06-03",
        "child.open_to_csc": "Not known",
        "household": [
            household("Magdalena Mazur", "Mother", "1990-04-19", "Same as child", "Yes"),
            household("Piotr Mazur", "Father", address="Believed to be in Poland", pr="Yes"),
        ],
        "criteria": [ABUSE],
        "summary": "Kacper was seen at school on 3 June 2024 with a burn to the back of his "
        "hand which he said was from an iron. His mother said it was an accident. He has missed "
        "31 sessions of school this term.",
    },
)


# ---------------------------------------------------------------------------
# typed-: controls removed, answers typed into the cells
# ---------------------------------------------------------------------------

TYPED_NHS = FormSample(
    name="typed-nhs-delete-options",
    description="Hospital trust; controls removed, unchosen options deleted, YES in capitals, "
    "a placeholder left as plain text, several date spellings",
    writer="typed",
    date_style="ordinal",
    tick="delete",
    caps=True,
    leftover_placeholders=("child.aliases", "child.death_date"),
    modified="2024-10-03T17:12:00Z",
    fields={
        "referrer.name": "Eleri Vaughan-Jones",
        "referrer.job_title": "Named Nurse, Safeguarding Children",
        "referrer.agency": "Liverpool University Hospitals NHS Foundation Trust",
        "referrer.address": "Safeguarding Team\nLevel 2, Westbourne Wing\n40 Mount Vernon Rise\n"
        "Liverpool\nL7 3EN",
        "referrer.phone": S("+44 (0)151 496 0734", "01514960734"),
        "referrer.email": "Eleri.Vaughan-Jones@liverpoolft.nhs.uk",
        "referrer.referral_date": "2024-10-03",
        "referrer.discussed_with_safeguarding_lead": "Yes",
        "referrer.safeguarding_lead_name": "Dr Farhan Qureshi",
        "referrer.safeguarding_lead_contact": "Named Doctor for Safeguarding Children, LUHFT, "
        "0151 496 0745",
        "child.name": "Aaliyah Brathwaite",
        "child.dob": "2009-12-05",
        "child.gender": "Female",
        "child.ethnicity": "Black British – Caribbean",
        "child.address": "Flat 12, Prospect Heights, 5 Orrell Mount, Liverpool, L6 4DS",
        "child.nhs_number": S("999 643 8201", "9996438201"),
        "child.school": "Croxteth Vale Academy (Year 10)",
        "child.incident_date": "2024-09-28",
        "child.legal_status": ["Child protection plan"],
        "child.open_to_csc": "Yes",
        "household": [
            household(
                "Leanne Brathwaite", "Mother", "1989-03-14", "Same as child", S("YES", "Yes")
            ),
            household(
                "Jamal Ibrahim",
                "Father",
                "1987-10-02",
                "Manchester – address not known",
                S("YES", "Yes"),
            ),
            household("Kai Brathwaite", "Brother", "2012-06-08", "Same as child"),
            household(
                "Tariq Holloway",
                "Aaliyah's boyfriend (aged 22)",
                "2002-02-17",
                "Not known",
                S("NO", "No"),
            ),
        ],
        "agencies": [
            agency(LCC_CS, "Mariam Haddad (social worker)", "0151 496 0612", S("YES", "Yes")),
            agency(
                "Merseyside Police",
                "DC Owen Treharne",
                "0151 496 0077\nowen.treharne@merseyside.police.uk",
                S("YES", "Yes"),
            ),
            agency(
                "Croxteth Vale Academy", "Sam Leatherbarrow (DSL)", "0151 496 0420", S("YES", "Yes")
            ),
            agency("Brook Liverpool (sexual health)", now=S("NO", "No")),
        ],
        "criteria": [HARMED, ABUSE],
        "review_type": "Rapid Review",
        "summary": "Aaliyah (14 years) was brought to the Emergency Department by ambulance in "
        "the early hours of 28 September 2024 with head injuries and bruising to her neck. She "
        "said that her 22-year-old boyfriend had assaulted her.\n"
        "Aaliyah has attended the Emergency Department four times since March 2024 with "
        "injuries and once after taking an overdose. On two of those attendances no "
        "safeguarding referral was made.\n"
        "She has been subject to a child protection plan since June 2024 under the category of "
        "emotional abuse.",
        "learning": "Recognition of teenage relationship abuse and of repeated attendances at "
        "the Emergency Department; whether domestic abuse risk assessment is used for children "
        "under 16; and information sharing between the hospital, the school and children's "
        "social care.",
        "key_dates": [
            event(S("14/03/24", "2024-03-14"), "ED attendance – facial bruising, said she fell"),
            event(S("2 May 2024", "2024-05-02"), "ED attendance after an overdose"),
            event(
                S("2024-06-11", "2024-06-11"),
                "Initial child protection conference – plan made (emotional abuse)",
            ),
            event(S("28.09.2024", "2024-09-28"), "ED – assault by boyfriend; police informed"),
        ],
        **processes(
            police_investigation=("Yes", "Ref 28P551274/24 (DC Treharne)"),
            criminal_proceedings="Not known",
            coroners_inquest="No",
            cdop_notified="No",
            domestic_homicide_review="No",
            safeguarding_adults_review="No",
            family_court_proceedings="No",
        ),
        "notifications.national_panel_notified": "Not known",
        "notifications.ofsted_notified": "No",
        "notifications.other_local_authorities": "Manchester City Council (father's area)",
        "notifications.media_interest": "No",
        "authorisation.manager_name": "Dr Farhan Qureshi",
        "authorisation.manager_role": "Named Doctor for Safeguarding Children",
        "authorisation.date": S("3/10/2024", "2024-10-03"),
    },
)

TYPED_SCHOOL = FormSample(
    name="typed-school-mixed-ticks",
    description="Primary school; controls removed; ticks typed as X, ✓ and ☒ in one form; "
    "multi-line answers with line breaks",
    writer="typed",
    date_style="dot",
    tick="x",
    tick_by_key={
        "criteria": "tick",
        "review_type": "tick",
        **{
            f"parallel_processes.{p}.status": "glyph"
            for p in (
                "police_investigation",
                "criminal_proceedings",
                "coroners_inquest",
                "cdop_notified",
                "domestic_homicide_review",
                "safeguarding_adults_review",
                "family_court_proceedings",
                "single_agency_review",
            )
        },
    },
    line_breaks="br",
    split_runs=("child.school", "referrer.agency"),
    modified="2024-12-11T08:47:00Z",
    fields={
        "referrer.name": "Niamh D'Arcy",
        "referrer.job_title": "Deputy Headteacher / DSL",
        "referrer.agency": "St Oswin's Catholic Primary School",
        "referrer.address": "St Oswin's Catholic Primary School\nMoss Pit Lane\nLiverpool\nL11 5QF",
        "referrer.phone": "0151 496 0388",
        "referrer.email": "ndarcy@stoswins.liverpool.sch.uk",
        "referrer.referral_date": "2024-12-11",
        "referrer.discussed_with_safeguarding_lead": "Yes",
        "referrer.safeguarding_lead_name": "Carol Whitlock",
        "referrer.safeguarding_lead_contact": "Headteacher, St Oswin's – 0151 496 0380",
        "child.name": "Harvey Quinlan",
        "child.dob": "2017-08-09",
        "child.gender": "Male",
        "child.ethnicity": "White British",
        "child.address": "62 Thirlmere Drive\nNorris Green\nLiverpool\nL11 8TS",
        "child.nhs_number": "9993205796",
        "child.school": "St Oswin's Catholic Primary School (Year 3)",
        "child.incident_date": "2024-11-29",
        "child.legal_status": ["None known"],
        "child.open_to_csc": "No",
        "household": [
            household("Gemma Quinlan", "Mum", "1991-01-28", "Same as Harvey", "Yes"),
            household("Scott Quinlan", "Dad", "1989-12-01", "Same as Harvey", "Yes"),
            household("Poppy Quinlan", "Sister", "2014-03-19", "Same as Harvey"),
            household("Archie Quinlan", "Brother", "2021-05-25", "Same as Harvey"),
        ],
        "agencies": [
            agency("St Oswin's Catholic Primary School", "Niamh D'Arcy", "0151 496 0388", "Yes"),
            agency(
                "Community Dental Service", "Mr Rajiv Menon (consultant)", "0151 496 0209", "Yes"
            ),
            agency("School Nursing Service", "Chloe Barraclough", "0151 496 0691", "No"),
        ],
        "criteria": [ABUSE, LEARNING],
        "review_type": "Practice Learning Review",
        "summary": "Harvey (7 years) had 11 teeth removed under general anaesthetic on 29 "
        "November 2024 because of severe decay. He had been in pain for months and was losing "
        "weight.\n"
        "Harvey's attendance is 71% and he often arrives hungry and in unwashed uniform. The "
        "school made two Early Help referrals which the family declined.\n"
        "His sister Poppy has similar dental problems.",
        "learning": "How persistent low-level neglect is escalated when a family declines Early "
        "Help, the use of the Graded Care Profile, and whether dental and school nursing "
        "services saw dental neglect as a safeguarding concern.",
        "key_dates": [
            event("2023-02-06", "First Early Help referral – declined"),
            event("2024-03-11", "Second Early Help referral – declined"),
            event("2024-06-20", "Dental referral after school noticed Harvey was in pain"),
            event("2024-11-29", "11 teeth extracted under general anaesthetic"),
        ],
        **processes(
            police_investigation="No",
            criminal_proceedings="No",
            coroners_inquest="No",
            cdop_notified="No",
            domestic_homicide_review="No",
            safeguarding_adults_review="No",
            family_court_proceedings="No",
            single_agency_review="Not known",
        ),
        "notifications.national_panel_notified": "No",
        "notifications.ofsted_notified": "No",
        "notifications.other_local_authorities": "No",
        "notifications.media_interest": "No",
        "authorisation.manager_name": "Carol Whitlock",
        "authorisation.manager_role": "Headteacher",
        "authorisation.date": "2024-12-11",
    },
)


# ---------------------------------------------------------------------------
# labels-: labels edited by the sender
# ---------------------------------------------------------------------------

LABELS_GP = FormSample(
    name="labels-nfd-gp-practice",
    description="GP practice; content controls kept, labels edited, all text in Unicode NFD",
    writer="cc",
    date_style="abbr",
    nfd=True,
    modified="2024-04-25T12:30:00Z",
    label_edits={
        "Name of referrer *": "Referrer name",
        "Job title / role *": "Role",
        "Telephone number *": "Telephone",
        "Email address *": "E-mail:",
        "Date of referral *": "Date of referral",
        "Child's full name *": "Child’s full name:",
        "Date of birth *": "DOB",
        "Date of incident *": "Date of incident",
        "Which of the criteria apply? (tick all that apply) *": "Which criteria apply? (tick "
        "all that apply)",
        "Summary of the incident and circumstances *": "Summary of incident and circumstances",
        "Authorising manager's name *": "Authorising Manager’s Name",
        "Date authorised *": "Date authorised:",
        "Relationship to child": "Relationship",
        "Event": "What happened",
    },
    fields={
        "referrer.name": "Dr Renée Castellanos",
        "referrer.job_title": "GP Partner and Practice Safeguarding Lead",
        "referrer.agency": "Mossley Vale Medical Practice",
        "referrer.address": "Mossley Vale Medical Practice, 210 Beechwood Road, Liverpool, L18 3LG",
        "referrer.phone": "0151 496 0186",
        "referrer.email": "renee.castellanos@nhs.net",
        "referrer.referral_date": "2024-04-25",
        "referrer.discussed_with_safeguarding_lead": "Yes",
        "referrer.safeguarding_lead_name": "Dr Ibrahim Sheikh",
        "referrer.safeguarding_lead_contact": "Named GP for Safeguarding Children, NHS Cheshire "
        "and Merseyside, 0151 496 0478",
        "child.name": "Anaïs Ó Dálaigh",
        "child.dob": "2022-09-14",
        "child.gender": "Female",
        "child.ethnicity": "White – Irish",
        "child.address": "5 Garnett Mews, Mossley Hill, Liverpool, L18 2HN",
        "child.nhs_number": "9998560314",
        "child.school": "Not yet in a setting",
        "child.incident_date": "2024-04-17",
        "child.open_to_csc": "Not known",
        "household": [
            household("Émilie Ó Dálaigh", "Mother", "1995-07-07", "Same as child", "Yes"),
            household("Seán Ó Dálaigh", "Father", "1993-02-26", "Same as child", "Yes"),
        ],
        "agencies": [
            agency("Mossley Vale Medical Practice", "Dr Renée Castellanos", "0151 496 0186", "Yes"),
            agency(
                "Alder Hey Children's NHS Foundation Trust",
                "Dr Kwabena Asante (paediatrician)",
                "0151 496 0125",
                "Yes",
            ),
        ],
        "criteria": [ABUSE],
        "review_type": "Advice only",
        "summary": "Anaïs (19 months) was seen at the practice on 17 April 2024 with a spiral "
        "fracture of the left femur. Her parents said she had caught her leg in the cot bars. "
        "She was referred to hospital, where a skeletal survey found no other injuries.\n"
        "The strategy discussion concluded that the explanation was plausible and no further "
        "action was taken.",
        "learning": "We would like advice on whether this case meets the threshold for a review. "
        "The practice is concerned that the decision was made without the GP records of two "
        "earlier minor injuries.",
        "key_dates": [
            event("2024-01-09", "Seen by practice nurse – bruise to cheek"),
            event("2024-03-02", "Out-of-hours GP – burn to finger"),
            event("2024-04-17", "Femur fracture; referred to Alder Hey"),
            event("2024-04-19", "Strategy discussion – no further action"),
        ],
        **processes(
            police_investigation="No",
            criminal_proceedings="No",
            family_court_proceedings="No",
            single_agency_review="No",
        ),
        "notifications.national_panel_notified": "No",
        "notifications.ofsted_notified": "Not known",
        "notifications.media_interest": "No",
        "authorisation.manager_name": "Dr Ibrahim Sheikh",
        "authorisation.manager_role": "Named GP for Safeguarding Children",
        "authorisation.date": "2024-04-25",
    },
)

LABELS_YJS = FormSample(
    name="labels-typed-youth-justice",
    description="Youth Justice Service; typed, ticks as ☒ glyphs, many labels reworded",
    writer="typed",
    date_style="dmy_short",
    tick="glyph",
    modified="2024-07-09T14:05:00Z",
    label_edits={
        "Name of referrer *": "NAME OF REFERRER",
        "Job title / role *": "Job Title/Role",
        "Agency / organisation *": "Agency",
        "Telephone number *": "Tel no.",
        "Email address *": "Email",
        "Date of referral *": "Referral date",
        "Have you discussed this referral with your agency's safeguarding lead? *": "Discussed "
        "with your safeguarding lead?",
        "Child's full name *": "Name of child",
        "Date of birth *": "D.O.B.",
        "Home address": "Address of child",
        "NHS number": "NHS No.",
        "Date of incident *": "Incident date",
        "Why do you think this case may offer learning for the partnership? *": "Why might this "
        "case offer learning?",
        "Authorising manager's role *": "Manager's role",
        "Date authorised *": "Date authorised",
        "Parental responsibility (Yes/No)": "Parental resp.",
        "Currently involved? (Yes/No)": "Involved now?",
    },
    fields={
        "referrer.name": "Ciarán O'Neill",
        "referrer.job_title": "Youth Justice Officer",
        "referrer.agency": "Liverpool Youth Justice Service",
        "referrer.address": "Youth Justice Service, Orrell Park Centre, 8 Rice Lane Walk, "
        "Liverpool, L9 1BE",
        "referrer.phone": S("07700 900 418", "07700900418"),
        "referrer.email": "ciaran.oneill@liverpool.gov.uk",
        "referrer.referral_date": "2024-07-09",
        "referrer.discussed_with_safeguarding_lead": "Yes",
        "referrer.safeguarding_lead_name": "Yvonne Harker-Scott",
        "referrer.safeguarding_lead_contact": "Service Manager, Youth Justice Service, "
        "yvonne.harker-scott@liverpool.gov.uk",
        "child.name": "Tyrese McCormack",
        "child.aliases": "“T-Mac” (street name)",
        "child.dob": "2007-11-23",
        "child.gender": "Male",
        "child.ethnicity": "Mixed – White and Black Caribbean",
        "child.address": "18 Rockford Walk, Walton, Liverpool, L4 9SB",
        "child.nhs_number": "9990743959",
        "child.school": "The Harbour Centre (alternative provision, part-time)",
        "child.incident_date": "2024-06-29",
        "child.legal_status": ["Child in need"],
        "child.open_to_csc": "Yes",
        "household": [
            household("Donna McCormack", "Mother", "1984-09-05", "Same as child", "Yes"),
            household("Jermaine Forde", "Father", "1982-04-11", "In prison", "Yes"),
            household("Kiera McCormack", "Sister", "2010-02-14", "Same as child"),
        ],
        "agencies": [
            agency("Liverpool Youth Justice Service", "Ciarán O'Neill", "07700 900418", "Yes"),
            agency(LCC_CS, "Hollie Strachan (social worker)", "0151 496 0589", "Yes"),
            agency("Merseyside Police", "DC Bilal Rahman", "0151 496 0033", "Yes"),
            agency("The Harbour Centre", "Graham Pickavance", "0151 496 0814", "Yes"),
        ],
        "criteria": [HARMED, AGENCIES],
        "review_type": "Child Safeguarding Practice Review",
        "summary": "Late on 29 June 2024 Tyrese (16 years) was seriously injured when the "
        "moped on which he was a pillion passenger hit a parked van. He was not wearing a "
        "helmet and suffered a brain injury; he remains in hospital.\n"
        "The rider, aged 19, is known to police for drug supply. Tyrese had been reported "
        "missing earlier that evening, his ninth missing episode this year.\n"
        "Tyrese was on a referral order and a child in need plan at the time.",
        "learning": "How exploitation risk was assessed and shared between youth justice, "
        "children's social care, police and his education provider; the response to repeated "
        "missing episodes; and the use of the Child Exploitation pathway.",
        "key_dates": [
            event("2024-01-16", "Referral order made at Liverpool Youth Court"),
            event("2024-03-04", "First missing episode this year"),
            event("2024-05-22", "Exploitation screening tool completed – medium risk"),
            event("2024-06-29", "Moped collision; admitted to hospital"),
        ],
        **processes(
            police_investigation=("Yes", "Road traffic collision, ref 29W604118/24"),
            criminal_proceedings="Not known",
            coroners_inquest="No",
            cdop_notified="No",
            domestic_homicide_review="No",
            safeguarding_adults_review="No",
            family_court_proceedings="No",
            single_agency_review="No",
        ),
        "notifications.national_panel_notified": "Yes",
        "notifications.national_panel_date": "2024-07-03",
        "notifications.ofsted_notified": "Yes",
        "notifications.other_local_authorities": "No",
        "notifications.media_interest": "Yes",
        "authorisation.manager_name": "Yvonne Harker-Scott",
        "authorisation.manager_role": "Service Manager, Youth Justice Service",
        "authorisation.date": "2024-07-09",
    },
)


# ---------------------------------------------------------------------------
# rows-: rows added to and deleted from the grids
# ---------------------------------------------------------------------------

ROWS_BIG = FormSample(
    name="rows-big-household",
    description="Barnardo's; content controls; 8 household rows, 7 agencies (with an empty "
    "row between them), 6 key dates",
    writer="cc",
    date_style="dmy",
    modified="2024-02-15T10:02:00Z",
    fields={
        "referrer.name": "Hayley Cunliffe",
        "referrer.job_title": "Family Support Worker",
        "referrer.agency": "Barnardo's Liverpool Family Service",
        "referrer.phone": "0151 496 0321",
        "referrer.email": "hayley.cunliffe@barnardos.org.uk",
        "referrer.referral_date": "2024-02-15",
        "referrer.discussed_with_safeguarding_lead": "Yes",
        "referrer.safeguarding_lead_name": "Amira Haddad",
        "referrer.safeguarding_lead_contact": "Children's Services Manager, Barnardo's, "
        "0151 496 0330",
        "child.name": "Sophia Kerrigan",
        "child.dob": "2019-10-03",
        "child.gender": "Female",
        "child.ethnicity": "White – British",
        "child.address": "7 Netherfield Close, Huyton Lane, Liverpool, L16 7QA",
        "child.nhs_number": "9992886404",
        "child.school": "Larkspur Primary School (Nursery class)",
        "child.incident_date": "2024-02-05",
        "child.legal_status": ["Child in need"],
        "child.open_to_csc": "Yes",
        "household": [
            household("Jodie Kerrigan", "Mother", "1992-06-18", "Same as child", "Yes"),
            household("Callum Rigby", "Mother's partner", "1988-03-09", "Same as child", "No"),
            household("Aiden Kerrigan", "Half-brother", "2010-09-27", "Same as child"),
            household("Leah Kerrigan", "Half-sister", "2013-01-15", "Same as child"),
            household("Ava Kerrigan", "Twin sister", "2019-10-03", "Same as child"),
            household("Frankie Rigby", "Half-brother", "2023-12-21", "Same as child"),
            household(
                "Patricia Kerrigan",
                "Maternal grandmother",
                "1966-04-30",
                "39 Moorfield Drive, Huyton, L36 5TP",
                "No",
            ),
            household("Mark Halsall", "Father of Aiden and Leah", address="Not known", pr="No"),
        ],
        "agencies": [
            agency(
                "Barnardo's Liverpool Family Service", "Hayley Cunliffe", "0151 496 0321", "Yes"
            ),
            agency(LCC_CS, "Adebola Ogunleye (social worker)", "0151 496 0547", "Yes"),
            agency(
                "Mersey Care NHS Foundation Trust – Health Visiting",
                "Kirsty Maddocks",
                "0151 496 0766",
                "Yes",
            ),
            None,
            agency(
                "Change Grow Live",
                "Wes Doherty (Callum's recovery worker)",
                "0151 496 0993",
                "Yes",
            ),
            agency(
                "Alder Hey Children's NHS Foundation Trust",
                "Julie Farrant (safeguarding nurse)",
                "0151 496 0136",
                "Yes",
            ),
            agency("Merseyside Police", "DC Ravi Sandhu", "0151 496 0051", "Yes"),
            agency("Larkspur Primary School", "Wendy Oyelaran (DSL)", "0151 496 0447", "Yes"),
        ],
        "criteria": [HARMED, ABUSE, AGENCIES],
        "review_type": "Rapid Review",
        "summary": "Sophia (4 years) was taken to hospital on 5 February 2024 drowsy and with "
        "pinpoint pupils. She had swallowed methadone that her mother's partner kept in a cup "
        "in the kitchen. She was ventilated for two days and has recovered.\n"
        "The family has had support from Barnardo's since October 2023. The partner's "
        "methadone prescription and the storage of medication at home had not been discussed "
        "with the family support worker or the health visitor.",
        "learning": "Information sharing between substance misuse services and children's "
        "services when a parent or partner is prescribed opioid substitutes, and the advice "
        "given about safe storage.",
        "key_dates": [
            event("2023-10-02", "Barnardo's family support starts"),
            event("2023-11-20", "Callum moves into the family home"),
            event("2023-12-04", "Callum starts methadone prescription"),
            event("2023-12-21", "Frankie born"),
            event("2024-01-17", "Child in need review – no mention of medication"),
            event("2024-02-05", "Sophia swallows methadone; ventilated"),
        ],
        **processes(
            police_investigation=("Yes", "Ref 05H287703/24"),
            criminal_proceedings="Not known",
            family_court_proceedings=("Yes", "Interim care order application for all children"),
            single_agency_review="No",
        ),
        "notifications.national_panel_notified": "Yes",
        "notifications.national_panel_date": "2024-02-07",
        "notifications.ofsted_notified": "Yes",
        "notifications.other_local_authorities": "Knowsley (maternal grandmother)",
        "notifications.media_interest": "No",
        "authorisation.manager_name": "Amira Haddad",
        "authorisation.manager_role": "Children's Services Manager",
        "authorisation.date": "2024-02-15",
    },
)

ROWS_DELETED = FormSample(
    name="rows-deleted-fire-service",
    description="Fire and rescue service; typed with ✓ ticks; unused grid rows deleted",
    writer="typed",
    date_style="long",
    tick="tick",
    delete_unused_rows=True,
    modified="2024-01-19T09:15:00Z",
    fields={
        "referrer.name": "Ffion Rees-Davies",
        "referrer.job_title": "Station Manager – Prevention",
        "referrer.agency": "Merseyside Fire and Rescue Service",
        "referrer.address": "Prevention Department, 60 Bridle Road, Liverpool, L30 4YD",
        "referrer.phone": "0151 496 0612",
        "referrer.email": "ffion.rees-davies@merseyfire.gov.uk",
        "referrer.referral_date": "2024-01-19",
        "referrer.discussed_with_safeguarding_lead": "Yes",
        "referrer.safeguarding_lead_name": "Group Manager Anil Ramdhanie",
        "child.name": "Kayden Lowry",
        "child.dob": "2013-05-17",
        "child.gender": "Male",
        "child.address": "31 Fernhill Gardens, Garston, Liverpool, L19 2PB",
        "child.school": "Garston Brook Primary School (Year 6)",
        "child.incident_date": "2024-01-11",
        "child.open_to_csc": "No",
        "household": [
            household("Sandra Lowry", "Mother", "1979-11-30", "Same as child", "Yes"),
            household("Kayden's uncle (name not known)", "Uncle", address="Same as child"),
        ],
        "agencies": [
            agency(
                "Merseyside Fire and Rescue Service",
                "Ffion Rees-Davies",
                "0151 496 0612",
                "Yes",
            ),
        ],
        "criteria": [HARMED, ABUSE],
        "review_type": "Rapid Review",
        "summary": "On 11 January 2024 firefighters rescued Kayden (10 years) from a bedroom "
        "fire at his home. He has burns to 12% of his body and was transferred to a specialist "
        "burns unit.\n"
        "The fire started from a candle used for light because the electricity had been "
        "disconnected. The house was severely cluttered and the hall was blocked, which delayed "
        "the rescue.\n"
        "A home fire safety visit in 2022 had recorded hoarding but no referral was made.",
        "learning": "Recognition of hoarding and fuel poverty as safeguarding concerns for "
        "children, and referral routes from home fire safety visits.",
        "key_dates": [
            event("2022-09-14", "Home fire safety visit – hoarding recorded, no referral"),
            event("2024-01-11", "House fire; Kayden rescued with burns"),
        ],
        **processes(
            police_investigation="Not known",
            single_agency_review=("Yes", "Fire service review of the 2022 visit"),
        ),
        "notifications.national_panel_notified": "Not known",
        "notifications.ofsted_notified": "Not known",
        "notifications.media_interest": "Yes",
        "authorisation.manager_name": "Anil Ramdhanie",
        "authorisation.manager_role": "Group Manager, Prevention",
        "authorisation.date": "2024-01-19",
    },
)


# ---------------------------------------------------------------------------
# rows-long-: a long typed form (many rows, a long summary) for the PDF benchmark
# ---------------------------------------------------------------------------

ROWS_LONG = FormSample(
    name="rows-long-neglect-sibling-group",
    description="Children's Services; typed; 10 household rows, 9 agencies, 14 key dates, "
    "an eight-paragraph summary (exported to a PDF of more than four pages)",
    writer="typed",
    date_style="dmy",
    tick="glyph",
    modified="2024-03-08T16:40:00Z",
    fields={
        "referrer.name": "Olufunke Adeyemi-Shaw",
        "referrer.job_title": "Team Manager, Child in Need Team North",
        "referrer.agency": LCC_CS,
        "referrer.address": "Cunard Building, Water Street, Liverpool, L3 1AH",
        "referrer.phone": "0151 496 0745",
        "referrer.email": "olufunke.adeyemi-shaw@liverpool.gov.uk",
        "referrer.referral_date": "2024-03-08",
        "referrer.discussed_with_safeguarding_lead": "Yes",
        "referrer.safeguarding_lead_name": "Declan Hesketh",
        "referrer.safeguarding_lead_contact": "Principal Social Worker, "
        "declan.hesketh@liverpool.gov.uk",
        "child.name": "Tiegan Markland",
        "child.aliases": "Tiegan Rowe",
        "child.dob": "2016-10-03",
        "child.gender": "Female",
        "child.ethnicity": "White – British",
        "child.address": "88 Sandringham Drive, Norris Green, Liverpool, L11 6QE",
        "child.nhs_number": S("999 403 0019", "9994030019"),
        "child.school": "Broad Lane Primary School (Year 2)",
        "child.incident_date": "2024-02-26",
        "child.legal_status": ["Child protection plan"],
        "child.open_to_csc": "Yes",
        "household": [
            household("Kerry Markland", "Mother", "1990-06-21", "Same as child", "Yes"),
            household("Jason Rowe", "Stepfather", "1987-01-09", "Same as child", "No"),
            household("Callum Markland", "Brother", "2009-02-14", "Same as child", "No"),
            household("Shannon Markland", "Sister", "2011-07-30", "Same as child", "No"),
            household("Riley Rowe", "Half-brother", "2019-12-05", "Same as child", "No"),
            household("Ava-Rose Rowe", "Half-sister", "2022-04-18", "Same as child", "No"),
            household("Paul Markland", "Father", "1986-03-02", "HMP Altcourse", "Yes"),
            household(
                "Irene Markland",
                "Maternal grandmother",
                "1964-09-11",
                "7 Lorenzo Drive, Norris Green, Liverpool, L11 1BW",
                "No",
            ),
            household("Dean Rowe", "Step-uncle", "1992-05-27", "Visits most weekends", "No"),
            household(
                "Lacey Holt",
                "Mother's friend",
                "1993-08-08",
                "Stays at the house some nights",
                "No",
            ),
        ],
        "agencies": [
            agency(LCC_CS, "Aisling Varga (social worker)", "0151 496 0746", "Yes"),
            agency("Broad Lane Primary School", "Mr Kwame Asante (DSL)", "0151 496 0981", "Yes"),
            agency(
                "Alder Hey Children's NHS Foundation Trust",
                "Dr Imogen Thwaite",
                "0151 496 0188",
                "Yes",
            ),
            agency(
                "Mersey Care NHS Foundation Trust – School Nursing",
                "Bernadette Quayle",
                "0151 496 0555",
                "Yes",
            ),
            agency("Merseyside Police", "DC Hassan Okoro", "0151 496 0322", "Yes"),
            agency(
                "Croxteth Gardens Medical Centre (GP)", "Dr Siân Pritchard", "0151 496 0640", "Yes"
            ),
            agency(
                "Change Grow Live (adult substance misuse)", "Ruth Delaney", "0151 496 0871", "No"
            ),
            agency("Liverpool Early Help", "Marcus Boateng", "0151 496 0299", "No"),
            agency(
                "Liverpool Mutual Homes", "Jade Sutcliffe (housing officer)", "0151 496 0433", "Yes"
            ),
        ],
        "criteria": [HARMED, ABUSE, AGENCIES],
        "review_type": "Rapid Review",
        "summary": "On 26 February 2024 Tiegan (7 years) was admitted to Alder Hey with "
        "severe dehydration, weight below the 0.4th centile and untreated scabies. She told "
        "a nurse that she and her younger brother were often shut in their bedroom without "
        "food while the adults were out.\n"
        "Tiegan is the third of six children living at home. All six have been subject to "
        "child protection plans under the category of neglect since September 2023, the "
        "third period of planning for the older children since 2015.\n"
        "School attendance for Tiegan fell to 61% in the autumn term. The school made "
        "several welfare calls and two home visits; on both visits the door was not "
        "answered. The school nurse recorded concerns about weight loss in November 2023 "
        "but the planned referral to the paediatric clinic was not sent.\n"
        "The GP saw Tiegan twice in January 2024 for skin complaints. Scabies was "
        "diagnosed and treatment prescribed for the whole household; there is no record "
        "that it was collected, and the GP practice was not invited to the core group.\n"
        "Police attended the home three times between October 2023 and February 2024 "
        "after reports of shouting and of young children left alone. Each report was "
        "shared with Children's Services, but none led to a strategy discussion.\n"
        "Kerry Markland has a long history of alcohol and cocaine misuse. She was "
        "discharged from the adult substance misuse service in December 2023 after "
        "missing three appointments. Jason Rowe has previous convictions for violence "
        "and the family moved house twice in 2023 after rent arrears.\n"
        "The core group met six times during the plan. Minutes record that the home "
        "conditions were poor at four of the meetings, but the plan's actions were not "
        "updated and no one was named as responsible for checking the children's food "
        "and sleeping arrangements.\n"
        "On admission all six children were placed with their maternal grandmother under "
        "a safety plan. Section 47 enquiries and a police investigation into wilful "
        "neglect are under way, and the local authority has started care proceedings.",
        "learning": "Whether cumulative neglect across a large sibling group was recognised "
        "when each agency saw only part of the picture; how school attendance, health and "
        "police information was brought together at core groups; the effect of a parent "
        "being discharged from substance misuse services during a child protection plan; "
        "and whether the voice of the younger children was heard.",
        "key_dates": [
            event("2015-05-12", "First child protection plan for Callum and Shannon (neglect)"),
            event("2017-01-20", "Plans ended; case closed to Children's Services"),
            event("2019-06-03", "Second child protection plan (neglect) for four children"),
            event("2020-11-16", "Plans ended; step-down to Early Help"),
            event("2023-09-07", "Third child protection plan for all six children"),
            event("2023-10-14", "Police called to the home – shouting reported"),
            event("2023-11-09", "School nurse records weight loss; referral not sent"),
            event("2023-12-04", "Mother discharged from substance misuse service"),
            event("2023-12-19", "Police called – young children left alone"),
            event("2024-01-10", "GP diagnoses scabies; treatment not collected"),
            event("2024-01-29", "GP review of skin complaint"),
            event("2024-02-08", "Police called – neighbours report children crying"),
            event("2024-02-26", "Tiegan admitted to Alder Hey"),
            event("2024-02-27", "All six children placed with grandmother"),
        ],
        **processes(
            police_investigation=("Yes", "Wilful neglect – ref 14N336120/24"),
            criminal_proceedings="Not known",
            coroners_inquest="No",
            cdop_notified="No",
            domestic_homicide_review="No",
            safeguarding_adults_review="No",
            family_court_proceedings=("Yes", "Care proceedings issued 6 March 2024"),
            single_agency_review=("Yes", "Children's Services audit of core group minutes"),
        ),
        "notifications.national_panel_notified": "Yes",
        "notifications.national_panel_date": "2024-03-01",
        "notifications.ofsted_notified": "Yes",
        "notifications.media_interest": "No",
        "authorisation.manager_name": "Declan Hesketh",
        "authorisation.manager_role": "Principal Social Worker",
        "authorisation.date": "2024-03-08",
    },
)


# ---------------------------------------------------------------------------
# legacy-: legacy form fields (FORMTEXT / FORMCHECKBOX)
# ---------------------------------------------------------------------------

LEGACY_AMBULANCE = FormSample(
    name="legacy-ambulance-service",
    description="Ambulance service; legacy FORMTEXT/FORMCHECKBOX fields, grid cells as fields",
    writer="legacy",
    date_style="dmy",
    modified="2024-10-22T07:58:00Z",
    fields={
        "referrer.name": "Grzegorz Wójcik",
        "referrer.job_title": "Paramedic",
        "referrer.agency": "North West Ambulance Service NHS Trust",
        "referrer.address": "Liverpool Ambulance Station, 4 Longfellow Road, Liverpool, L6 9QD",
        "referrer.phone": "0151 496 0811",
        "referrer.email": "grzegorz.wojcik@nwas.nhs.uk",
        "referrer.referral_date": "2024-10-21",
        "referrer.discussed_with_safeguarding_lead": "Yes",
        "referrer.safeguarding_lead_name": "Oksana Melnyk",
        "referrer.safeguarding_lead_contact": "Safeguarding Practitioner, NWAS Safeguarding "
        "Team\n0151 496 0826\noksana.melnyk@nwas.nhs.uk",
        "child.name": "Leo Fitzpatrick",
        "child.dob": "2023-09-02",
        "child.gender": "Male",
        "child.ethnicity": "Not known",
        "child.address": "Flat 9, 140 Oakhurst Road, Wavertree, Liverpool, L15 8BX",
        "child.incident_date": "2024-10-15",
        "child.open_to_csc": "Not known",
        "household": [
            household("Shannon Fitzpatrick", "Mother", "2001-03-27", "Same as child", "Yes"),
            household("Unknown male", "Mother's friend – present at the time"),
        ],
        "agencies": [
            agency("North West Ambulance Service", "Grzegorz Wójcik", "0151 496 0811", "Yes"),
        ],
        "criteria": [HARMED, ABUSE],
        "review_type": "Rapid Review",
        "summary": "At 19:20 on 15 October 2024 we were called to Leo (13 months), who had been "
        "found face down in the bath. His mother said she had left him for \u201ca couple of "
        "minutes\u201d. Leo was not breathing when the crew arrived; he was resuscitated and "
        "taken to hospital, where he remains.\n"
        "There was a strong smell of cannabis in the flat and an adult male left as the crew "
        "arrived.",
        "learning": "Possible learning about supervision of babies in the bath and about "
        "information sharing from ambulance crews.",
        "key_dates": [event("2024-10-15", "Found in the bath; resuscitated by paramedics")],
        **processes(police_investigation=("Yes", "Police attended – ref 15D774512/24")),
        "authorisation.manager_name": "Oksana Melnyk",
        "authorisation.manager_role": "Safeguarding Practitioner",
        "authorisation.date": "2024-10-22",
    },
)

LEGACY_PROBATION = FormSample(
    name="legacy-probation-default-ticks",
    description="Probation Service; legacy fields, some boxes ticked through their default "
    "state, a field result spanning paragraphs, NHS number left empty",
    writer="legacy",
    date_style="iso",
    legacy_default_checked=(
        "referrer.discussed_with_safeguarding_lead",
        "notifications.media_interest",
    ),
    legacy_paragraph_keys=("summary",),
    modified="2024-09-05T15:40:00Z",
    fields={
        "referrer.name": "Adaeze Nwosu",
        "referrer.job_title": "Senior Probation Officer",
        "referrer.agency": "The Probation Service – Liverpool North",
        "referrer.phone": "020 7946 0318",
        "referrer.email": "Adaeze.Nwosu@justice.gov.uk",
        "referrer.referral_date": "2024-09-05",
        "referrer.discussed_with_safeguarding_lead": "Yes",
        "referrer.safeguarding_lead_name": "Colm Ó Riordáin",
        "child.name": "Maya Ogbonna-Lynch",
        "child.dob": "2012-04-08",
        "child.gender": "Female",
        "child.address": "Temporarily with her aunt – address held by Children's Services",
        "child.school": "Norris Vale Academy",
        "child.incident_date": "2024-08-24",
        "child.legal_status": ["Child looked after"],
        "child.open_to_csc": "Yes",
        "household": [
            household("Angela Ogbonna-Lynch", "Mother (deceased)", "1983-06-02"),
            household("Darren Cole", "Mother's partner", "1980-10-19", "In custody", "No"),
            household("Bernice Ogbonna", "Maternal aunt (carer)", "1979-01-23", pr="No"),
        ],
        "agencies": [
            agency("The Probation Service", "Adaeze Nwosu", "020 7946 0318", "Yes"),
            agency(LCC_CS, "Sinéad Power (social worker)", "0151 496 0588", "Yes"),
        ],
        "criteria": [ABUSE, AGENCIES],
        "review_type": "Child Safeguarding Practice Review",
        "summary": "On 24 August 2024 Maya (12 years) was at home when her mother was killed by "
        "her partner, Darren Cole. Maya called 999.\n"
        "Mr Cole was being supervised by the Probation Service on licence for offences of "
        "domestic abuse against a previous partner.\n"
        "Children's Services were not told that he had moved into the family home.",
        "learning": "Information sharing between probation and children's services about "
        "perpetrators of domestic abuse who move in with families with children.",
        "key_dates": [
            event("2024-03-18", "Mr Cole released on licence"),
            event("2024-06-02", "Mr Cole moves in with the family"),
            event("2024-08-24", "Maya's mother killed at home"),
        ],
        **processes(
            police_investigation=("Yes", "Murder investigation – Operation Hawthorn"),
            criminal_proceedings=("Yes", "Mr Cole charged with murder"),
            domestic_homicide_review=("Yes", "Liverpool Community Safety Partnership"),
            family_court_proceedings="Not known",
        ),
        "notifications.national_panel_notified": "Not known",
        "notifications.ofsted_notified": "Yes",
        "notifications.media_interest": "Yes",
        "authorisation.manager_name": "Colm Ó Riordáin",
        "authorisation.manager_role": "Head of Liverpool North PDU",
        "authorisation.date": "2024-09-05",
    },
)


FORMS: list[FormSample] = [
    CC_POLICE,
    CC_HEALTH,
    CC_SCHOOL,
    CC_SOCIAL_CARE,
    CC_NEEDS_INFO,
    TYPED_NHS,
    TYPED_SCHOOL,
    LABELS_GP,
    LABELS_YJS,
    ROWS_BIG,
    ROWS_DELETED,
    LEGACY_AMBULANCE,
    LEGACY_PROBATION,
    ROWS_LONG,
]

LETTER: dict[str, Any] = {
    "author": "Karen Ashby",
    "paragraphs": [
        "Larkhill Community Allotments Association",
        "2 May 2024",
        "Dear plot holder,",
        "Thank you for renewing your tenancy for the 2024 season. The details we hold are below; "
        "please tell us if anything has changed.",
        "The spring work day will be on Saturday 18 May from 10am. Tea and cake will be "
        "provided. Please bring gloves and, if you have one, a fork.",
        "Water troughs will be turned on once the risk of frost has passed.",
        "Yours sincerely,",
        "Karen Ashby",
        "Secretary",
    ],
    "table": [
        ("Plot number", "14B"),
        ("Name", "Mr T. Holroyd"),
        ("Telephone", "0151 496 0001"),
        ("Date of renewal", "29/04/2024"),
        ("Rent paid", "Yes"),
    ],
}


# ---------------------------------------------------------------------------
# pdf-: filled forms exported to PDF by LibreOffice (see README "PDF samples")
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PdfSample:
    """A PDF made by exporting one of the .docx samples with LibreOffice."""

    source: str  # the FormSample exported
    description: str
    # Multi-line answers whose line breaks do not survive the export: LibreOffice (7.4)
    # does not draw a w:br inside a plain-text content control, so the lines touch on the
    # page ("TeamMarlowe House"). Keys are FIELDS.md keys; their lines are expected
    # joined with nothing. The generator checks the PDF really shows them so.
    lost_breaks: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"pdf-{self.source}"


PDF_FORMS = [
    PdfSample(
        "cc-police-window-fall",
        "content controls; the address and summary lose their line breaks in the export",
        lost_breaks=("referrer.address", "summary"),
    ),
    PdfSample("cc-needs-info-early-help", "content controls; needs_info"),
    PdfSample("typed-school-mixed-ticks", "typed; ticks shown three ways"),
    PdfSample("labels-typed-youth-justice", "typed; uppercase and abbreviated labels"),
    PdfSample("rows-deleted-fire-service", "typed with ✓ ticks; unused rows deleted"),
    PdfSample(
        "legacy-probation-default-ticks",
        "legacy form fields; LibreOffice draws the check boxes as vector squares",
    ),
    PdfSample(ROWS_LONG.name, "typed; long (more than four pages), for the benchmark"),
]
