"""The CLI's shared context — a thin wrapper over `provenance.session.Session` — and how a command
ends: one line and an exit code.

`Env` holds the global options and builds the session on first use; it adds only what a terminal
needs: the password prompt and the note printed before a write to the embedded chain. A
`ProvenanceError` becomes one line on stderr and exit 1 (the traceback only with `--debug`);
Ctrl-C becomes exit 130 with what really happened — nothing sent, or which signed transactions
may be on their way (they are in the outbox either way).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from provenance.exceptions import PasswordUnavailable, ProvenanceError

if TYPE_CHECKING:
    from rich.console import Console

    from provenance.session import Session

RPC_ENV = "PROVENANCE_RPC"
ACCOUNT_ENV = "PROVENANCE_ACCOUNT"
PASSWORD_ENV = "PROVENANCE_PASSWORD"
EXIT_INTERRUPTED = 130

EMBEDDED_NOTE = (
    "note: using the embedded chain, which lives only as long as this command: nothing persists. "
    "Start a node with `provenance node start` (or pass --rpc URL) to keep state."
)

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


# ----------------------------------------------------------------------------------- errors


class CliError(click.ClickException):
    """A one-line error with a chosen exit code (1 unless a command documents otherwise)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]


def one_line(message: str) -> str:
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    return " ".join(lines) if lines else "error"


def interrupted_message(ctx: click.Context) -> str:
    """What Ctrl-C interrupted: nothing sent, or the transactions already signed."""
    env = ctx.find_root().obj
    signed = env.signed if isinstance(env, Env) else []
    if not signed:
        return "interrupted: nothing was sent"
    listed = ", ".join(signed)
    return (
        f"interrupted after signing {listed}: journaled in the outbox, it may already be on the "
        "chain; see `provenance outbox status` (and `provenance outbox flush` to make sure)"
    )


def handle_errors(ctx: click.Context, exc: BaseException, exit_code: int = 1) -> CliError | None:
    """The CliError a command's exception becomes (None: re-raise it as it is)."""
    if isinstance(exc, click.ClickException | click.exceptions.Exit):
        return None
    if isinstance(exc, KeyboardInterrupt | click.Abort):
        return CliError(interrupted_message(ctx), EXIT_INTERRUPTED)
    root = ctx.find_root().obj
    if isinstance(root, Env) and root.debug:
        return None
    if isinstance(exc, ProvenanceError):
        return CliError(one_line(str(exc)), exit_code)
    if isinstance(exc, Exception):  # a bug or an unwrapped library error: still one line
        return CliError(
            f"unexpected {type(exc).__name__}: {one_line(str(exc))} "
            "(rerun with --debug for the traceback, and please report it)",
            exit_code,
        )
    return None


class ProvenanceGroup(click.Group):
    """A click group that turns library errors into one line and a non-zero exit."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (Exception, KeyboardInterrupt) as exc:
            error = handle_errors(ctx, exc)
            if error is None:
                raise
            raise error from exc


# ------------------------------------------------------------------------------ the context


@dataclass
class Env:
    """Global options and the session built from them, shared by every command (`ctx.obj`)."""

    rpc: str | None = None
    account: str | None = None
    debug: bool = False
    password_file: Path | None = None
    _session: Session | None = field(default=None, repr=False)
    _stderr: Console | None = field(default=None, repr=False)
    _noted: bool = field(default=False, repr=False)

    @property
    def session(self) -> Session:
        if self._session is None:
            from provenance.session import Session

            self._session = Session(self.rpc, account=self.account, password=self.password)
        return self._session

    @property
    def stderr(self) -> Console:
        if self._stderr is None:
            from rich.console import Console

            self._stderr = Console(stderr=True, highlight=False)
        return self._stderr

    @property
    def signed(self) -> list[str]:
        return self._session.signed if self._session is not None else []

    # the session's pieces, for the commands

    def rpc_url(self) -> str:
        """The endpoint the session uses: --rpc / PROVENANCE_RPC, the recorded node, or
        "embedded"."""
        return self.session.target().url

    def chain(self, *, for_write: bool = False) -> Any:
        return self.session.chain(for_write=for_write)

    @property
    def embedded(self) -> bool:
        return self.session.embedded

    def deployment(self) -> Any:
        return self.session.deployment()

    def signer(self, *, offline: bool = False) -> Any:
        return self.session.signer(offline=offline)

    def transactor(self) -> Any:
        self.note_embedded_write()
        return self.session.transactor()

    def registry(self, write: bool = False) -> Any:
        if write:
            self.note_embedded_write()
        return self.session.registry(write=write)

    def agreements(self, write: bool = False) -> Any:
        if write:
            self.note_embedded_write()
        return self.session.agreements(write=write)

    def note_embedded_write(self) -> None:
        if self.embedded and not self._noted:
            self.stderr.print(EMBEDDED_NOTE)
            self._noted = True

    def password(self, prompt: str = "Keystore password", confirm: bool = False) -> str:
        """--password-file, else PROVENANCE_PASSWORD, else a prompt on the terminal (or a line
        piped to standard input). Each failure says what happened — the keystore is untouched."""
        if self.password_file is not None:
            try:
                return self.password_file.read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as exc:
                raise PasswordUnavailable(
                    f"cannot read the password file {self.password_file}: "
                    f"{exc.strerror or exc} (the keystore was not touched)"
                ) from exc
        env = os.environ.get(PASSWORD_ENV)
        if env is not None:
            return env
        if not sys.stdin.isatty():  # a pipe or nothing: read a line, never open /dev/tty
            line = sys.stdin.readline().rstrip("\r\n")
            if line:
                return line
            raise PasswordUnavailable(
                "a keystore password is needed, but there is no terminal to ask on and "
                "standard input gave none: pass --password-file FILE or set "
                f"{PASSWORD_ENV} (the keystore was not touched)"
            )
        try:
            return str(click.prompt(prompt, hide_input=True, confirmation_prompt=confirm))
        except click.Abort:
            raise CliError(
                "interrupted at the password prompt: nothing was signed or sent (the keystore "
                "is untouched)",
                EXIT_INTERRUPTED,
            ) from None


pass_env = click.make_pass_decorator(Env, ensure=True)
