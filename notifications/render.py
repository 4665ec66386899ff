"""Render email templates (Jinja2: autoescaped HTML, StrictUndefined everywhere)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class RenderedMail:
    """Subject and bodies of one email, ready for the outbox."""

    subject: str
    text: str
    html: str


@lru_cache(maxsize=8)
def environment(override_dir: Path | None = None) -> Environment:
    """Templates from `override_dir` first (local wording), then our own.

    Cached: Jinja keeps compiled templates in the environment, and compiling on every email
    cost more than rendering. Jinja still notices an edited template file (auto_reload),
    so local wording can change without a restart.
    """
    loaders: list[Any] = []
    if override_dir is not None:
        loaders.append(FileSystemLoader(str(override_dir)))
    loaders.append(PackageLoader("notifications", "templates"))
    return Environment(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(name: str, context: dict[str, Any], override_dir: Path | None = None) -> RenderedMail:
    """Render `name.subject.j2`, `name.txt.j2` and `name.html.j2` with `context`."""
    env = environment(override_dir)
    subject = env.get_template(f"{name}.subject.j2").render(context)
    return RenderedMail(
        subject=" ".join(subject.split()),  # one line, whatever the template's layout
        text=env.get_template(f"{name}.txt.j2").render(context),
        html=env.get_template(f"{name}.html.j2").render(context),
    )
