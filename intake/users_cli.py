"""`intake users`: review-queue users (add, disable, reset) and the demo officer."""

from __future__ import annotations

import secrets
import sys
from typing import Annotated, Any

import typer

from intake.settings import Settings

users_app = typer.Typer(
    help="Review queue users: add, disable, reset; demo for `make review`.", no_args_is_help=True
)
DEMO_OFFICER = "demo.officer"


def _users_engine() -> Any:
    from review.users import open_engine

    return open_engine(Settings())


def _new_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


def _users_do(action: Any) -> None:
    from review.passwords import PasswordError
    from review.users import UserError

    try:
        action()
    except (UserError, PasswordError) as exc:
        typer.echo(f"intake users: {exc}", err=True)
        raise typer.Exit(2) from None


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name, e.g. a.smith")],
    role: Annotated[str, typer.Option(help="viewer, officer or admin.")] = "viewer",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    email: Annotated[
        str, typer.Option(help="Where notes of new mail on their assigned referrals go.")
    ] = "",
) -> None:
    """Add a review-queue user (asks for the password)."""
    from review.users import add_user

    password = _new_password(password_stdin)
    _users_do(
        lambda: typer.echo(
            f"added {add_user(_users_engine(), name, role, password, email=email or None)}"
        )
    )


@users_app.command("disable")
def users_disable(name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Stop a user signing in; their open sessions end at once."""
    from review.users import disable_user

    _users_do(lambda: disable_user(_users_engine(), name))
    typer.echo(f"disabled {name}")


@users_app.command("reset")
def users_reset(
    name: Annotated[str, typer.Argument(help="User name.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Set a new password for a user, lift any lock-out, end their sessions."""
    from review.users import reset_user

    password = _new_password(password_stdin)
    _users_do(lambda: reset_user(_users_engine(), name, password))
    typer.echo(f"new password set for {name}")


@users_app.command("demo")
def users_demo() -> None:
    """Add (or reset) the demo officer on the demo database and print its new password
    once: `make review` runs this before serving the queue on this machine."""
    from review.users import UserError, add_user, reset_user

    settings = Settings()
    if not settings.resolved_database_url.startswith("sqlite"):
        typer.echo(
            "intake users demo: only for the demo's own SQLite database; add real users "
            "with `intake users add`",
            err=True,
        )
        raise typer.Exit(2)
    password = secrets.token_urlsafe(12)  # 16 characters, shown once and never stored
    engine = _users_engine()

    def make() -> None:
        try:
            add_user(engine, DEMO_OFFICER, "officer", password)
        except UserError:  # already there (an earlier `make review`): a new password
            reset_user(engine, DEMO_OFFICER, password)

    _users_do(make)
    typer.echo(f"Demo officer: user {DEMO_OFFICER}, password {password} (shown once)")
