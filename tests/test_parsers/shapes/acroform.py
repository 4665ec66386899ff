"""Fillable (AcroForm) PDFs of the form: values in text fields, ticks in check box widgets.

The PDFs are committed in files/acroform/ with the script that made them
(make_acroform.py); the expected records are written from that script's inputs (what
it typed and ticked), never from the reader.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from shapes import Shape

MODULE = "acroform"
FILES = Path(__file__).resolve().parent / "files" / "acroform"

# What each typed value must read as (the record's key and normalised value).
TEXTS: dict[str, tuple[str, str]] = {
    "Name of referrer *": ("referrer.name", "Priya Ó Briain"),
    "Job title / role *": ("referrer.job_title", "Family Support Worker"),
    "Agency / organisation *": ("referrer.agency", "Kensington Family Hub"),
    "Telephone number *": ("referrer.phone", "01514960777"),
    "Email address *": ("referrer.email", "priya.obriain@example.org.uk"),
    "Date of referral *": ("referrer.referral_date", "2024-03-01"),
    "Child's full name *": ("child.name", "Jayden Kowalczyk"),
    "Date of birth *": ("child.dob", "2016-06-09"),
    "Date of incident *": ("child.incident_date", "2024-02-20"),
    "Summary of the incident and": ("summary", "First line.\nSecond line."),
    "Why do you think this case may": ("learning", "Learning."),
    "Authorising manager's name *": ("authorisation.manager_name", "Dee Hughes"),
    "Authorising manager's role *": ("authorisation.manager_role", "Service Manager"),
    "Date authorised *": ("authorisation.date", "2024-02-29"),
}
# The record key of each question whose boxes were ticked; lists for tick-all-that-apply.
TICKS: dict[str, tuple[str, bool]] = {
    "Have you discussed this referral": ("referrer.discussed_with_safeguarding_lead", False),
    "Gender": ("child.gender", False),
    "Legal status at the time of the": ("child.legal_status", True),
    "Was the child open to Children's": ("child.open_to_csc", False),
    "Which of the criteria apply? (tick": ("criteria", True),
    "Type of review you are requesting": ("review_type", False),
    "Has the National Child": ("notifications.national_panel_notified", False),
    "Has Ofsted been notified?": ("notifications.ofsted_notified", False),
    "Is there media interest in this": ("notifications.media_interest", False),
}
PROCESSES = {
    "Police investigation": "police_investigation",
    "Criminal proceedings": "criminal_proceedings",
    "Coroner's inquest": "coroners_inquest",
    "Child Death Overview Panel": "cdop_notified",
    "Domestic Homicide Review": "domestic_homicide_review",
    "Safeguarding Adults Review": "safeguarding_adults_review",
    "Family court proceedings": "family_court_proceedings",
    "Single-agency internal review": "single_agency_review",
}


def _maker() -> ModuleType:
    """The generator script (not a package module: it is run as a script)."""
    spec = importlib.util.spec_from_file_location("make_acroform", FILES / "make_acroform.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _expected(fill: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, value in fill.texts.items():
        key, want = TEXTS[label]
        assert value, label
        out[key] = want
    for question, options in fill.ticks.items():
        if question in PROCESSES:
            out[f"parallel_processes.{PROCESSES[question]}.status"] = options[0]
            continue
        key, many = TICKS[question]
        out[key] = list(options) if many else options[0]
    for process, details in fill.details.items():
        out[f"parallel_processes.{PROCESSES[process]}.details"] = details
    return out


def cases() -> list[Shape]:
    maker = _maker()
    out: list[Shape] = []
    for name, fill in maker.FILLS.items():
        missing = {k for label, (k, _v) in TEXTS.items() if label not in fill.texts}
        out.append(
            Shape(
                f"{MODULE}/{name.removesuffix('.pdf')}",
                name,
                (FILES / name).read_bytes(),
                "needs_info" if missing else "referral",
                _expected(fill),
                frozenset(missing),
            )
        )
    return out
