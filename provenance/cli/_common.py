"""What every command group shares: the context object, shared options, output and error handling.

Only the `provenance.cli` package imports click. Commands parse their arguments, call the library,
and format what it returns; a `ProvenanceError` becomes one line on stderr and a non-zero exit
(the traceback only with `--debug`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, is_dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from provenance.exceptions import ConfigError, ProvenanceError

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from provenance.agreements import AgreementsClient
    from provenance.chain import Chain
    from provenance.deploy import Deployment
    from provenance.registry import RegistryClient
    from provenance.transactions import Transactor

F = TypeVar("F", bound=Callable[..., Any])

RPC_ENV = "PROVENANCE_RPC"
ACCOUNT_ENV = "PROVENANCE_ACCOUNT"
PASSWORD_ENV = "PROVENANCE_PASSWORD"

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


def _is_debug(ctx: click.Context) -> bool:
    root = ctx.find_root()
    return bool(isinstance(root.obj, Env) and root.obj.debug)


class ProvenanceGroup(click.Group):
    """A click group that turns library errors into one line and a non-zero exit."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ProvenanceError as exc:
            if _is_debug(ctx):
                raise
            raise CliError(one_line(str(exc))) from exc
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:  # pragma: no cover - interactive
            raise click.Abort() from None
        except Exception as exc:  # a bug or an unwrapped library error: still one line
            if _is_debug(ctx):
                raise
            raise CliError(
                f"unexpected {type(exc).__name__}: {one_line(str(exc))} "
                "(rerun with --debug for the traceback, and please report it)"
            ) from exc


def one_line(message: str) -> str:
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    return " ".join(lines) if lines else "error"


# ------------------------------------------------------------------------------ the context


@dataclass
class Env:
    """Global options and lazily created connections, shared by every command (`ctx.obj`)."""

    rpc: str | None = None
    account: str | None = None
    debug: bool = False
    password_file: Path | None = None
    _chain: Chain | None = field(default=None, repr=False)
    _deployment: Deployment | None = field(default=None, repr=False)
    _signer: LocalAccount | None = field(default=None, repr=False)
    _transactor: Transactor | None = field(default=None, repr=False)
    stderr: Console = field(default_factory=lambda: Console(stderr=True, highlight=False))

    def rpc_url(self) -> str:
        """--rpc / PROVENANCE_RPC, else a running `provenance node`, else the embedded chain."""
        from provenance import node
        from provenance.chain import EMBEDDED

        if self.rpc:
            return self.rpc
        info = node.status()
        return info.url if info else EMBEDDED

    def chain(self, *, offline_ok: bool = False) -> Chain:
        """The connected chain. `offline_ok` (write commands): if the endpoint is unreachable but
        a deployment was recorded through that same URL, return an offline Chain for its chain
        id, so that the transaction is signed and queued in the outbox instead of failing."""
        if self._chain is None:
            from provenance.chain import EMBEDDED, connect

            url = self.rpc_url()
            known = None
            if offline_ok and url != EMBEDDED:
                from provenance.deploy import find_record_for_rpc

                record = find_record_for_rpc(url)
                known = record.chain_id if record is not None else None
            self._chain = connect(url, offline_chain_id=known)
        return self._chain

    @property
    def embedded(self) -> bool:
        from provenance.chain import EMBEDDED

        return self.rpc_url() == EMBEDDED

    def deployment(self) -> Deployment:
        """The recorded deployment for the connected chain (checked: code at its addresses)."""
        if self._deployment is None:
            from provenance.deploy import load_deployment

            if self.embedded:
                raise ConfigError(
                    "there is no deployment on the embedded chain: it lives only as long as one "
                    "command, so nothing persists between commands; start a node with "
                    "`provenance node start`, run `provenance deploy`, then retry "
                    "(or pass --rpc URL)"
                )
            chain = self.chain()
            if chain.reachable:
                self._deployment = load_deployment(chain)
            else:  # offline: trust the record (its code is checked when the chain is back)
                from provenance.deploy import read_record

                record = read_record(chain.chain_id)
                if record is None:  # pragma: no cover - an offline chain comes from a record
                    raise ConfigError(f"no deployment recorded for chain id {chain.chain_id}")
                self._deployment = record
        return self._deployment

    def note_embedded_write(self) -> None:
        if self.embedded:
            self.stderr.print(EMBEDDED_NOTE)

    def password(self, prompt: str = "Keystore password", confirm: bool = False) -> str:
        """--password-file, else PROVENANCE_PASSWORD, else an interactive prompt."""
        if self.password_file is not None:
            try:
                return self.password_file.read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as exc:
                raise ConfigError(
                    f"cannot read password file {self.password_file}: {exc.strerror or exc}"
                ) from exc
        env = os.environ.get(PASSWORD_ENV)
        if env is not None:
            return env
        try:
            return str(click.prompt(prompt, hide_input=True, confirmation_prompt=confirm))
        except click.Abort:
            raise ConfigError(
                "a keystore password is needed: pass --password-file FILE or set "
                f"{PASSWORD_ENV} (no password was typed)"
            ) from None

    def signer(self, *, offline: bool = False) -> LocalAccount:
        """The account given by --account (keystore name, address or dev:N), unlocked once.

        `offline`: do not connect for a keystore account (dev:N still needs a local chain).
        """
        from provenance.accounts import is_dev_spec, resolve_account

        if self._signer is None:
            spec = self.account or os.environ.get(ACCOUNT_ENV)
            if not spec:
                raise ConfigError(
                    "no account given: pass --account NAME|ADDRESS|dev:N "
                    f"(or set {ACCOUNT_ENV}); list keystores with `provenance account list`"
                )
            chain = None if offline and not is_dev_spec(spec) else self.chain()
            self._signer = resolve_account(spec, chain=chain, password=self.password)
        return self._signer

    def transactor(self) -> Transactor:
        """A Transactor for --account on the connected chain, journaling to the outbox."""
        from provenance.outbox import Outbox
        from provenance.transactions import Transactor

        if self._transactor is None:
            self.note_embedded_write()
            chain = self.chain(offline_ok=True)
            self._transactor = Transactor(chain, self.signer(), Outbox.default())
        return self._transactor

    def registry(self, write: bool = False) -> RegistryClient:
        from provenance.registry import RegistryClient

        if write:
            self.chain(offline_ok=True)
        deployment = self.deployment()
        tx = self.transactor() if write else None
        return RegistryClient.from_deployment(self.chain(), deployment, tx)

    def agreements(self, write: bool = False) -> AgreementsClient:
        from provenance.agreements import AgreementsClient

        if write:
            self.chain(offline_ok=True)
        deployment = self.deployment()
        tx = self.transactor() if write else None
        return AgreementsClient.from_deployment(self.chain(), deployment, tx)


pass_env = click.make_pass_decorator(Env, ensure=True)


# ----------------------------------------------------------------------------- shared options


def json_option(func: F) -> F:
    """`--json`: machine-readable output instead of tables."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print JSON instead of a human-readable table."
    )(func)


def password_file_option(func: F) -> F:
    """`--password-file FILE`: read the keystore password from a file (first line)."""

    def callback(ctx: click.Context, _param: click.Parameter, value: Path | None) -> Path | None:
        if value is not None:
            ctx.ensure_object(Env).password_file = value
        return value

    return click.option(
        "--password-file",
        type=click.Path(dir_okay=False, path_type=Path),
        expose_value=False,
        callback=callback,
        help=f"Read the keystore password from FILE (else ${PASSWORD_ENV}, else a prompt).",
    )(func)


def account_option(func: F) -> F:
    """`--account` given after the command name (same as the global option)."""

    def callback(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
        if value:
            ctx.ensure_object(Env).account = value
        return value

    return click.option(
        "--account",
        "-a",
        metavar="NAME|ADDRESS|dev:N",
        expose_value=False,
        callback=callback,
        help="Sign with this account: keystore name, address, or dev:N (dev account N).",
    )(password_file_option(func))


def write_command(func: F) -> F:
    """Options every state-changing command takes."""
    return account_option(func)


# ------------------------------------------------------------------------------------- output

console = Console(highlight=False, soft_wrap=True)


def json_object(record: object) -> dict[str, object]:
    """A library record (dataclass with fields) as a JSON-ready dict."""
    data = jsonable(record)
    assert isinstance(data, dict)
    return data


def jsonable(value: Any) -> Any:
    """Turn library records (frozen dataclasses, enums, bytes) into JSON-ready values."""
    if hasattr(value, "to_json") and callable(value.to_json):
        return jsonable(value.to_json())
    if is_dataclass(value) and not isinstance(value, type):
        return {k: jsonable(v) for k, v in asdict(value).items() if k != "receipt"}
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def print_json(value: Any) -> None:
    click.echo(json.dumps(jsonable(value), indent=2, sort_keys=False, default=str))


def table(*columns: str, title: str | None = None) -> Table:
    result = Table(title=title, show_header=True, header_style="bold", expand=False)
    for column in columns:
        result.add_column(column, overflow="fold")
    return result


def queued_message(result: Any) -> str:
    """The one line a write command prints when its transaction was queued (exit code 0)."""
    ctx = click.get_current_context(silent=True)
    env = ctx.find_root().obj if ctx is not None else None
    chain = env._chain if isinstance(env, Env) else None
    where = f" at {chain.rpc}" if chain is not None else ""
    nonce = getattr(result, "nonce", None)
    what = getattr(result, "description", "") or "transaction"
    return (
        f"chain unreachable{where}: signed transaction {result.tx_hash} ({what}) queued in the "
        f"outbox{f' (nonce {nonce})' if nonce is not None else ''}; run `provenance outbox "
        "flush` when the chain is back"
    )


def show_tx(result: Any, what: str = "") -> None:
    """One line per transaction: what it did, its hash, gas; or that it waits in the outbox."""
    label = what or getattr(result, "description", "") or "transaction"
    if getattr(result, "queued", False):
        console.print(queued_message(result))
        return
    gas = getattr(result, "gas_used", None)
    block = getattr(result, "block_number", None)
    extra = []
    if block is not None:
        extra.append(f"block {block}")
    if gas is not None:
        extra.append(f"gas {gas:,}")
    suffix = f" ({', '.join(extra)})" if extra else ""
    console.print(f"{label}: tx {result.tx_hash}{suffix}")


@contextmanager
def progress_bar(description: str, total: int | None) -> Iterator[Callable[..., None]]:
    """A rich progress bar on stderr; yields `advance(n=1)`."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=total)

        def advance(n: int = 1, **_: Any) -> None:
            progress.advance(task, n)

        yield advance


# ------------------------------------------------------------------------------- parsing


def parse_batch_ref(value: str) -> str:
    """A batch id (0x + 64 hex), or a GS1 Digital Link URL …/01/{gtin}/10/{lot}."""
    from provenance.exceptions import InvalidInput
    from provenance.types import batch_id, parse_digital_link, to_hex32

    text = value.strip()
    if "/01/" in text or text.startswith(("http://", "https://")):
        gtin, lot = parse_digital_link(text)
        return batch_id(gtin, lot)
    if text.lower().startswith("0x") and len(text) == 66:
        try:
            return to_hex32(text)
        except InvalidInput:
            pass
    raise InvalidInput(
        f"invalid batch {value!r}: expected a batch id (0x + 64 hex digits) or a GS1 Digital "
        "Link such as https://id.gs1.org/01/09506000134352/10/LOT1"
    )


def document_hash(doc: Path | None, doc_hash: str | None) -> str:
    """--doc FILE (hashed here) or --doc-hash 0x…; zero hash when neither is given."""
    from provenance.exceptions import InvalidInput
    from provenance.types import ZERO32, hash_file, to_hex32

    if doc is not None and doc_hash:
        raise InvalidInput("give either --doc FILE or --doc-hash HASH, not both")
    if doc is not None:
        return hash_file(doc)
    if doc_hash:
        try:
            return to_hex32(doc_hash)
        except InvalidInput as exc:
            raise InvalidInput(
                f"invalid --doc-hash {doc_hash!r}: expected 0x + 64 hex digits "
                "(see `provenance docs hash FILE`)"
            ) from exc
    return ZERO32


def doc_options(func: F) -> F:
    """`--doc FILE` / `--doc-hash HASH`: a document anchored by its keccak256 hash."""
    func = click.option(
        "--doc-hash", metavar="0xHASH", help="Anchor this document hash instead of --doc."
    )(func)
    return click.option(
        "--doc",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Anchor the keccak256 hash of this document (the file stays with you).",
    )(func)


def positive_int(value: str, what: str) -> int:
    from provenance.exceptions import InvalidInput

    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(f"invalid {what} {value!r}: expected a whole number") from None
    if number <= 0:
        raise InvalidInput(f"invalid {what} {number}: it must be greater than zero")
    return number


def parse_time(value: str | None, what: str, *, default: int | None = None) -> int:
    """A unix timestamp, an ISO date/time (UTC if no zone), `now`, or `+30d` / `+12h` / `+90m`
    relative to now."""
    import datetime as dt
    import re
    import time as _time

    from provenance.exceptions import InvalidInput

    if value is None or value == "":
        if default is None:
            raise InvalidInput(f"{what} is required")
        return default
    text = value.strip()
    now = int(_time.time())
    if text == "now":
        return now
    match = re.fullmatch(r"\+(\d+)([smhdw])", text)
    if match:
        unit = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}[match.group(2)]
        return now + int(match.group(1)) * unit
    if text.isdigit():
        return int(text)
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"invalid {what} {value!r}: use a unix time, an ISO date (2026-05-01 or "
            "2026-05-01T12:00), `now`, or +N[s|m|h|d|w]"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp())


def parse_duration(value: str, what: str) -> int:
    """A duration in seconds: `3600`, `90s`, `15m`, `12h`, `2d` or `1w`."""
    import re

    from provenance.exceptions import InvalidInput

    match = re.fullmatch(r"\s*(\d+)\s*([smhdw]?)\s*", value.lower())
    if not match:
        raise InvalidInput(
            f"invalid {what} {value!r}: use seconds or a number with s, m, h, d or w (e.g. 2d)"
        )
    unit = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}[match.group(2)]
    return int(match.group(1)) * unit


def parse_bps(value: str, what: str) -> int:
    """Basis points: `150` (bps), `150bps` or `1.5%`; at most 10,000 (100 %)."""
    import re
    from decimal import Decimal

    from provenance.exceptions import InvalidInput

    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(%|bps)?\s*", value.lower())
    if not match:
        raise InvalidInput(
            f"invalid {what} {value!r}: use basis points (150) or a percentage (1.5%)"
        )
    number = Decimal(match.group(1)) * (100 if match.group(2) == "%" else 1)
    if number != number.to_integral_value() or number > 10_000:
        raise InvalidInput(
            f"invalid {what} {value!r}: a whole number of basis points, at most 10000 (100%)"
        )
    return int(number)


def parse_subject(value: str) -> str:
    """An attestation subject: a batch (id or Digital Link) or a participant address."""
    from provenance.types import address_subject

    text = value.strip()
    if text.lower().startswith("0x") and len(text) == 42:
        return address_subject(text)
    return parse_batch_ref(text)


def format_time(ts: int | None) -> str:
    import datetime as dt

    if not ts:
        return "-"
    try:
        return dt.datetime.fromtimestamp(int(ts), dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    except (OverflowError, OSError, ValueError):  # e.g. 2**64 - 1, "valid until further notice"
        return "never"


def parse_amount(value: str, what: str = "amount") -> int:
    """`1.5eth`, `2gwei`, `1000wei` or a bare number of ether → wei."""
    import re
    from decimal import Decimal, InvalidOperation

    from provenance.exceptions import InvalidInput

    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(eth|ether|gwei|wei)?\s*", value.lower())
    if not match:
        raise InvalidInput(f"invalid {what} {value!r}: use e.g. 1.5eth, 20gwei or 1000wei")
    unit = {"eth": 10**18, "ether": 10**18, "gwei": 10**9, "wei": 1, None: 10**18}[match.group(2)]
    try:
        wei = Decimal(match.group(1)) * unit
    except InvalidOperation:  # pragma: no cover - the regex already guards this
        raise InvalidInput(f"invalid {what} {value!r}") from None
    if wei != wei.to_integral_value():
        raise InvalidInput(f"invalid {what} {value!r}: smaller than 1 wei")
    return int(wei)


def format_eth(wei: int) -> str:
    from provenance.types import format_eth as _format_eth

    return _format_eth(wei)
