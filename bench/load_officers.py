"""The simulated officers of bench/load.py: each signed in, browsing and changing referrals."""

from __future__ import annotations

import asyncio
import random
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

PASSWORD = "load run password 16"
CORRECTED = "child.aliases"  # a free-text field every form has; a new value each time
REFERENCE = re.compile(r'href="/referrals/(SIRG-\d{4}-\d{4,})"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Stats:
    """What the officers saw: (kind, ms, status) per request, failures, accepted changes."""

    hits: list[tuple[str, float, int]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # no answer (refused, timed out)
    server_errors: list[str] = field(default_factory=list)  # 5xx: "kind path status"
    accepted: Counter[tuple[str, str]] = field(default_factory=Counter)  # (officer, action)
    signed_in: int = 0


@dataclass
class Officer:
    """One simulated officer with its own cookies and the references it has seen."""

    name: str
    client: httpx.AsyncClient
    ports: list[int]
    stats: Stats
    rng: random.Random
    refs: list[str] = field(default_factory=list)
    csrf: str = ""
    done: int = 0

    async def call(self, method: str, path: str, kind: str, **kw: object) -> httpx.Response | None:
        """One request to a web process chosen at random; timed and counted."""
        url = f"http://127.0.0.1:{self.rng.choice(self.ports)}{path}"
        started = time.perf_counter()
        try:
            response = await self.client.request(method, url, **kw)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            self.stats.failures.append(f"{kind} {type(exc).__name__}")
            return None
        ms = (time.perf_counter() - started) * 1000
        self.stats.hits.append((kind, ms, response.status_code))
        if response.status_code >= 500:
            self.stats.server_errors.append(f"{kind} {path} {response.status_code}")
        found = CSRF.search(response.text) if method == "GET" else None
        if found:
            self.csrf = found.group(1)
        return response

    async def sign_in(self) -> bool:
        """The sign-in form, as a browser fills it."""
        await self.call("GET", "/login", "login form")
        response = await self.call(
            "POST", "/login", "sign in",
            data={"name": self.name, "password": PASSWORD, "csrf_token": self.csrf, "next": "/"},
        )  # fmt: skip
        if response is None or response.status_code != 303:
            return False
        self.stats.signed_in += 1
        return await self.queue() is not None

    async def queue(self) -> httpx.Response | None:
        """A queue page: usually the first, sometimes another order, filter or page."""
        query = self.rng.choice(
            ["", "", "?sort=due", "?sort=received", "?page=2", "?page=5", "?status=new",
             "?urgency=urgent", f"?assignee={self.name}", "?q=lily"]
        )  # fmt: skip
        response = await self.call("GET", "/" + query, "queue")
        if response is not None and response.status_code == 200:
            self.refs = REFERENCE.findall(response.text) or self.refs
        return response

    async def post(self, action: str, ref: str, path: str, data: dict[str, str]) -> None:
        """A form POST with the session's CSRF token; then the page it leads to."""
        response = await self.call("POST", path, action, data={**data, "csrf_token": self.csrf})
        if response is None:
            return
        if response.status_code == 303:
            self.stats.accepted[(self.name, action)] += 1
            await self.call("GET", f"/referrals/{ref}", "referral")

    async def act(self) -> None:
        """One step of work, chosen at random (browsing more often than changing)."""
        action = self.rng.choices(
            ["queue", "dashboard", "referral", "correct", "assign", "note"],
            weights=[30, 10, 30, 10, 10, 10],
        )[0]
        if action == "queue" or not self.refs:
            await self.queue()
            return
        if action == "dashboard":
            await self.call("GET", "/dashboard", "dashboard")
            return
        ref = self.rng.choice(self.refs)
        self.done += 1
        tag = f"{self.name}-{self.done}"
        if action == "referral":
            await self.call("GET", f"/referrals/{ref}", "referral")
        elif action == "correct":
            form = await self.call(
                "GET", f"/referrals/{ref}/correct?key={CORRECTED}", "correct form"
            )
            if form is not None and form.status_code == 200:
                data = {"key": CORRECTED, "value": f"Alias {tag}", "note": "load run"}
                await self.post("correct", ref, f"/referrals/{ref}/correct", data)
        elif action == "assign":
            await self.post("assign", ref, f"/referrals/{ref}/assign", {"assignee": self.name})
        else:
            await self.post("note", ref, f"/referrals/{ref}/notes", {"text": f"Note {tag}"})


async def officer_day(officer: Officer, stop: threading.Event, start_delay: float) -> None:
    """Sign in, then work with think times until told to stop."""
    await asyncio.sleep(start_delay)
    try:
        if not await officer.sign_in():
            officer.stats.failures.append(f"sign in failed for {officer.name}")
            return
        while not stop.is_set():
            await officer.act()
            pause = officer.rng.uniform(0.5, 2.0)
            while pause > 0 and not stop.is_set():
                await asyncio.sleep(min(pause, 0.25))
                pause -= 0.25
    finally:
        await officer.client.aclose()


def client_for(number: int) -> httpx.AsyncClient:
    """An officer's browser, at its own workstation address behind the TLS proxy.

    `intake serve` trusts X-Forwarded-For from 127.0.0.1 (uvicorn's proxy headers), as from
    the proxy in production. Without it all officers share one address, and sign-ins in
    flight at once count against it (see bench/README.md).
    """
    address = f"10.16.{number // 250}.{number % 250 + 1}"
    # Idle connections are dropped before uvicorn's 5 s keep-alive ends: at the same 5 s
    # (httpx's default) a request can go out on a connection the server is closing.
    limits = httpx.Limits(keepalive_expiry=2.0)
    headers = {"X-Forwarded-For": address}
    return httpx.AsyncClient(timeout=120, headers=headers, limits=limits)


def run_officers(names: list[str], ports: list[int], stop: threading.Event, stats: Stats) -> None:
    """Every officer in one event loop (this thread), each with its own client and cookies."""

    async def main() -> None:
        officers = [
            Officer(name, client_for(i), ports, stats, random.Random(i))
            for i, name in enumerate(names)
        ]
        # Sign-ins spread over the first seconds, as people arrive (argon2 is slow on purpose).
        await asyncio.gather(*(officer_day(o, stop, i * 0.2) for i, o in enumerate(officers)))

    asyncio.run(main())
