"""Routing rules as data: who is alerted, and clear errors for a bad file."""

from __future__ import annotations

from pathlib import Path

import pytest

from notifications.routing import Representative, Routing, RoutingError, load_routing

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "routing.toml"


def rep(email: str, **kw: object) -> Representative:
    return Representative.model_validate({"name": email, "email": email, "agency": "X"} | kw)


ROUTING = Routing(
    internal_domains=["liverpool.gov.uk", "@nhs.net"],
    representatives=[
        rep("all@liverpool.gov.uk"),
        rep("police@merseyside.police.uk", alerts="agency", agency="Merseyside Police"),
        rep("health@nhs.net", alerts="agency", match_agencies=["Alder Hey", "NHS"]),
        rep("chair@liverpool.gov.uk", role="chair", alerts="digest"),
        rep("bm@liverpool.gov.uk", role="business_manager", alerts="none"),
        rep("quiet@liverpool.gov.uk", alerts="none"),
    ],
)


def emails(reps: list[Representative]) -> list[str]:
    return [r.email for r in reps]


def test_everyone_on_all_and_agency_matches_only() -> None:
    got = ROUTING.alert_recipients(False, ["Merseyside Police", "Liverpool City Council"])
    assert emails(got) == ["all@liverpool.gov.uk", "police@merseyside.police.uk"]


def test_agency_match_ignores_case_and_looks_at_agencies_involved() -> None:
    got = ROUTING.alert_recipients(False, ["A school", "alder hey children's nhs trust"])
    assert emails(got) == ["all@liverpool.gov.uk", "health@nhs.net"]


def test_urgent_also_goes_to_the_chair_and_business_manager() -> None:
    got = ROUTING.alert_recipients(True, ["A school"])
    assert emails(got) == ["all@liverpool.gov.uk", "chair@liverpool.gov.uk", "bm@liverpool.gov.uk"]


def test_digest_recipients() -> None:
    assert emails(ROUTING.digest_recipients()) == ["chair@liverpool.gov.uk"]


def test_internal_domains_include_subdomains_only_of_listed_domains() -> None:
    assert ROUTING.is_internal("a@liverpool.gov.uk")
    assert ROUTING.is_internal("a@schools.liverpool.gov.uk")
    assert ROUTING.is_internal("a@NHS.NET")
    assert not ROUTING.is_internal("a@notliverpool.gov.uk")
    assert not ROUTING.is_internal("a@gmail.com")


def test_the_sample_routing_file_is_valid() -> None:
    routing = load_routing(SAMPLE)
    assert any(r.role == "chair" for r in routing.representatives)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "[[representatives]]\nname='A'\nemail='not-an-address'\nagency='X'\n",
            "representatives.0.email",
        ),
        ("[[representatives]]\nname='A'\nemail='a@b.uk'\nagency='X'\nrole='boss'\n", "role"),
        ("[[representatives]]\nname='A'\nemail='a@b.uk'\n", "agency"),
        ("[[representatives]]\nname='A'\nemail='a@b.uk'\nagency='X'\nalert='all'\n", "alert"),
        ("internal_domains = [", "not valid TOML"),
    ],
)
def test_a_bad_file_is_refused_saying_where(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "routing.toml"
    path.write_text(content)
    with pytest.raises(RoutingError, match=message.replace(".", r"\.")):
        load_routing(path)


def test_a_missing_file_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(RoutingError, match="cannot read routing file"):
        load_routing(tmp_path / "absent.toml")


def test_intake_run_refuses_to_start_with_a_bad_routing_file(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    bad = tmp_path / "routing.toml"
    bad.write_text("[[representatives]]\nname='A'\nemail='nope'\nagency='X'\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update(INTAKE_DATA_DIR=str(tmp_path), INTAKE_ROUTING_FILE=str(bad))
    result = subprocess.run(
        [sys.executable, "-m", "intake", "run", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "representatives.0.email" in result.stderr and "Traceback" not in result.stderr
