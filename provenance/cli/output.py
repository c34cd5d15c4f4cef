"""How commands print: JSON of library records, tables, one line per transaction, progress bars.

Every value shown comes from a library record; times and amounts go through the library's own
formatters (`provenance.times.format_time`, `provenance.money.format_eth`), which render any
on-chain value without failing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table


class _LazyConsole:
    """The stdout console, built on first use (rich is not imported for `--help`)."""

    _console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            type(self)._console = Console(highlight=False, soft_wrap=True)
        return getattr(self._console, name)


console: Any = _LazyConsole()


def format_time(ts: int | None) -> str:
    from provenance.times import format_time as _format_time

    return _format_time(ts)


def format_eth(wei: int) -> str:
    from provenance.money import format_eth as _format_eth

    return _format_eth(wei)


def json_object(record: object) -> dict[str, object]:
    """A library record (dataclass with fields) as a JSON-ready dict."""
    data = jsonable(record)
    assert isinstance(data, dict)
    return data


def jsonable(value: Any) -> Any:
    """Turn library records (frozen dataclasses, enums, bytes) into JSON-ready values; integers
    of 2^53 and more (wei, salts) stay exact integers in the JSON."""
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
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    return value


def print_json(value: Any) -> None:
    click.echo(json.dumps(jsonable(value), indent=2, sort_keys=False, default=str))


def table(*columns: str, title: str | None = None) -> Table:
    from rich.table import Table

    result = Table(title=title, show_header=True, header_style="bold", expand=False)
    for column in columns:
        result.add_column(column, overflow="fold")
    return result


def queued_message(result: Any) -> str:
    """The one line a write command prints when its transaction was queued (exit code 0)."""
    ctx = click.get_current_context(silent=True)
    env = ctx.find_root().obj if ctx is not None else None
    session = getattr(env, "_session", None)
    chain = getattr(session, "_chain", None)
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
    from rich.console import Console
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
