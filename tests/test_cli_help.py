"""Every command has help text ending in an `Example:` block, and -h/--help/--version work."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from provenance import __version__
from provenance.cli import cli


def walk(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Command]]:
    yield " ".join(path) or "provenance", command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from walk(sub, (*path, name))


COMMANDS = list(walk(cli))


def test_the_command_tree_has_every_group_of_the_design() -> None:
    names = {name for name, _ in COMMANDS}
    for expected in (
        "deploy", "compile", "node start", "node stop", "node status",
        "participant register", "participant update", "participant suspend",
        "participant reinstate", "participant migrate", "participant show", "participant list",
        "participant prefix assign", "participant prefix revoke", "participant prefix list",
        "account new", "account import", "account list", "account balance", "account fund",
        "batch create", "batch create-many", "batch show", "batch split", "batch merge",
        "batch transform", "batch recall", "batch lift-recall",
        "handoff send", "handoff accept", "handoff reject", "handoff cancel",
        "handoff sign", "handoff relay", "attest add", "attest revoke",
        "agreement propose", "agreement accept", "agreement fund", "agreement escalate",
        "agreement withdraw-tender", "agreement resolve", "agreement withdraw", "agreement show",
        "agreement list", "agreement cancel", "agreement reclaim", "agreement resolve-default",
        "docs hash", "outbox list", "outbox flush", "verify", "demo",
    ):  # fmt: skip
        assert expected in names, f"missing command `provenance {expected}`"
    for gone in ("agreement deliver", "agreement dispute"):  # claimDelivery and dispute are gone
        assert gone not in names


def test_the_delivery_options_are_where_the_design_puts_them() -> None:
    commands = dict(COMMANDS)
    options = {
        name: {opt for p in commands[name].params for opt in getattr(p, "opts", ())}
        for name in ("handoff send", "agreement propose", "agreement resolve", "deploy")
    }
    assert "--agreement" in options["handoff send"]
    assert {"--carrier", "--tolerance", "--inspection", "--require"} <= options["agreement propose"]
    assert "--deliver" in options["agreement resolve"]
    assert "--admin-delay" in options["deploy"]


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_command_has_help_with_an_example(name: str, command: click.Command) -> None:
    assert command.help and command.help.strip(), f"`{name}` has no help text"
    assert "Example:" in command.help, f"`{name}` help has no `Example:` block"
    tail = command.help.rsplit("Example:", 1)[1]
    assert "provenance" in tail, f"`{name}` example does not show a provenance command"
    result = CliRunner().invoke(cli, [*name.split()[0:0], *_args(name), "-h"])
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output


def _args(name: str) -> list[str]:
    return [] if name == "provenance" else name.split()


@pytest.mark.parametrize(
    ("name", "command"),
    [(n, c) for n, c in COMMANDS if not isinstance(c, click.Group)],
    ids=[n for n, c in COMMANDS if not isinstance(c, click.Group)],
)
def test_every_option_has_help(name: str, command: click.Command) -> None:
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help or param.name in {"help", "version"}, (
                f"`{name}` option {param.opts} has no help"
            )


def test_version_and_short_help_flag() -> None:
    runner = CliRunner()
    assert __version__ in runner.invoke(cli, ["--version"]).output
    assert runner.invoke(cli, ["-h"]).exit_code == 0


def test_verify_help_documents_its_exit_codes() -> None:
    out = CliRunner().invoke(cli, ["verify", "--help"]).output
    for line in ("0  VERIFIED", "1  WARNING", "2  FAILED", "3  error", "4  usage"):
        assert line in out


def test_python_dash_m_runs_the_cli() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "provenance", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0 and __version__ in done.stdout
