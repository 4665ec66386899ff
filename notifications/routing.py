"""Who gets told about a referral: SIRG representatives and rules, as data (a TOML file).

    internal_domains = ["liverpool.gov.uk", "merseyside.police.uk"]

    [[representatives]]
    name = "Pat Example"
    email = "pat.example@liverpool.gov.uk"
    agency = "Liverpool City Council"
    role = "chair"                 # member | chair | business_manager
    alerts = "all"                 # all | agency | digest | none
    match_agencies = ["Liverpool City Council"]   # for alerts = "agency"

Rules: `all` representatives hear of every referral; `agency` ones of referrals that name
their agency (referring agency or agencies involved); `digest` ones get a daily summary
instead. Urgent referrals also go at once to every chair and business manager.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

Role = Literal["member", "chair", "business_manager"]
AlertMode = Literal["all", "agency", "digest", "none"]
URGENT_ROLES = ("chair", "business_manager")
# Deliberately plain: the mail server is the judge of deliverability, this catches typos.
ADDRESS = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+")


class RoutingError(ValueError):
    """The routing file cannot be used; the message says where and why."""


class Representative(BaseModel):
    """One SIRG representative."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    email: str
    agency: str = Field(min_length=1)
    role: Role = "member"
    alerts: AlertMode = "all"
    match_agencies: list[str] = Field(default_factory=list)

    @field_validator("email")
    @classmethod
    def _address(cls, value: str) -> str:
        if not ADDRESS.fullmatch(value.strip()):
            raise ValueError(f"{value!r} is not an email address")
        return value.strip().lower()

    def names_agency(self, agencies: list[str]) -> bool:
        """True when one of `agencies` mentions this representative's agency."""
        wanted = [a.casefold() for a in (self.match_agencies or [self.agency])]
        return any(w in given.casefold() for w in wanted for given in agencies)


class Routing(BaseModel):
    """The whole routing file."""

    model_config = ConfigDict(extra="forbid")

    internal_domains: list[str] = Field(default_factory=list)
    representatives: list[Representative] = Field(default_factory=list)

    @field_validator("internal_domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        return [d.lower().lstrip("@") for d in value]

    def team_addresses(self) -> list[str]:
        """The LSCP team: business managers, who hear of mail nobody else is assigned."""
        return [r.email for r in self.representatives if r.role == "business_manager"]

    def is_internal(self, address: str) -> bool:
        """True for an address in one of the allowed internal domains (or their subdomains)."""
        domain = address.rsplit("@", 1)[-1].lower()
        return any(domain == d or domain.endswith(f".{d}") for d in self.internal_domains)

    def alert_recipients(self, urgent: bool, agencies: list[str]) -> list[Representative]:
        """Representatives to alert at once about one referral, each once, in file order."""
        chosen: list[Representative] = []
        for rep in self.representatives:
            wants = (
                rep.alerts == "all"
                or (rep.alerts == "agency" and rep.names_agency(agencies))
                or (urgent and rep.role in URGENT_ROLES)
            )
            if wants and rep.email not in {c.email for c in chosen}:
                chosen.append(rep)
        return chosen

    def digest_recipients(self) -> list[Representative]:
        """Representatives who asked for the daily digest."""
        return [rep for rep in self.representatives if rep.alerts == "digest"]


def _where(error: dict[str, Any]) -> str:
    parts = [str(p) for p in error.get("loc", ())]
    return ".".join(parts) or "(top level)"


def load_routing(path: Path | None) -> Routing:
    """Read and check a routing file; no file means nobody is alerted."""
    if path is None:
        return Routing()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RoutingError(f"cannot read routing file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RoutingError(f"routing file {path} is not valid TOML: {exc}") from exc
    try:
        return Routing.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{_where(e)}: {e['msg']}" for e in exc.errors())  # type: ignore[arg-type]
        raise RoutingError(f"routing file {path}: {problems}") from exc
