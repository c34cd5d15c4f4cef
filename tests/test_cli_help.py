"""Every command has help text ending in an `Example:` block, and -h/--help/--version work."""

from __future__ import annotations

import re
from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from provenance import __version__
from provenance.cli import cli
from tests.support import PROJECT_ROOT


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


# ------------------------------------------------------------------ commands that messages name

#: `provenance …` as the library's messages and the docs write it (issue 10: a message advised
#: "check it with `provenance outbox status`" when there was no such command).
ADVICE = re.compile(r"`provenance ([^`]*)`")
SOURCES = [
    *sorted((PROJECT_ROOT / "provenance").rglob("*.py")),
    PROJECT_ROOT / "README.md",
    *sorted((PROJECT_ROOT / "docs").glob("*.md")),
]


def _options(command: click.Command) -> set[str]:
    return {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}


def advice() -> list[tuple[str, str]]:
    found = []
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"\"\s*\n\s*[rf]?\"", "", text)  # "…" "…" across source lines: one string
        for match in ADVICE.finditer(text):
            found.append((f"{path.relative_to(PROJECT_ROOT)}: `provenance {match[1]}`", match[1]))
    return found


@pytest.mark.parametrize(("where", "words"), advice(), ids=[w for w, _ in advice()])
def test_every_command_and_option_a_message_names_exists(where: str, words: str) -> None:
    command: click.Command = cli
    options = {*_options(cli), "--help", "-h"}
    tokens = words.replace("…", " ").split()
    while tokens and tokens[0].startswith("-"):  # global options first: `--rpc URL`
        option = tokens.pop(0).split("=")[0]
        assert option in options, where
        param = next((p for p in cli.params if option in p.opts), None)
        if param is not None and not getattr(param, "is_flag", False) and tokens:
            tokens.pop(0)
    while isinstance(command, click.Group) and tokens and not tokens[0].startswith("-"):
        names = tokens.pop(0).split("/")  # `node start/stop/status`
        for name in names:
            assert name in command.commands, f"{where}: no command {name!r}"
        command = command.commands[names[0]]
    options |= _options(command)
    for token in tokens:
        if token.startswith("--") and not any(c in token for c in "{}[]|"):
            assert token.split("=")[0] in options, f"{where}: no option {token.split('=')[0]}"
