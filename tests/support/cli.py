"""The CLI against a test chain: `make_cli` gives a fresh deployment and a private data directory,
`Cli.run` invokes the CLI in-process (the `c` fixture in conftest.py builds one per test)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from provenance.chain import Chain, dev_accounts
from provenance.cli import cli
from provenance.deploy import Deployment, deploy

DEV = [a.address for a in dev_accounts()]
OPERATOR, FARM, CARRIER, PROCESSOR, RETAILER, CERTIFIER = DEV[:6]
GTIN = "09506000134352"  # valid GS1 check digit, under the farm's company prefix
PRODUCT_GTIN = "09506000134369"  # the farm's too
JAM_GTIN = "09521234000013"  # under the processor's company prefix
FARM_PREFIX, PROCESSOR_PREFIX = "9506000", "9521234"


@dataclass
class Cli:
    """`run(*args)` invokes the CLI in-process against the test chain."""

    chain: Chain
    deployment: Deployment
    home: Path
    runner: CliRunner

    def run(self, *args: str, expect: int | None = 0, input: str | None = None) -> Result:
        result = self.runner.invoke(cli, [str(a) for a in args], input=input)
        if expect is not None and result.exit_code != expect:
            raise AssertionError(
                f"`provenance {' '.join(args)}` exited {result.exit_code}, expected {expect}:\n"
                f"{result.output}\n{result.exception!r}"
            )
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json").stdout)


def make_cli(
    chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, deployed: bool = True
) -> Cli:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("PROVENANCE_HOME", str(home))
    monkeypatch.setenv("PROVENANCE_RPC", chain.rpc)
    monkeypatch.delenv("PROVENANCE_ACCOUNT", raising=False)
    monkeypatch.delenv("PROVENANCE_PASSWORD", raising=False)
    deployment = (
        deploy(chain, dev_accounts()[0], save=True, root=home, force=True) if deployed else None
    )
    return Cli(chain, deployment, home, CliRunner())  # type: ignore[arg-type]


def register_all(c: Cli, roles: Sequence[tuple[str, str]] | None = None) -> None:
    """Register the usual cast: farm, carrier, processor, retailer, certifier; the farm and the
    processor get their company prefixes."""
    cast = roles or (
        (FARM, "producer"),
        (CARRIER, "carrier"),
        (PROCESSOR, "processor"),
        (RETAILER, "retailer"),
        (CERTIFIER, "certifier"),
    )
    for address, role in cast:
        c.run("participant", "register", address, "--roles", role, "--account", "dev:0")
    registered = {address for address, _ in cast}
    for address, prefix in ((FARM, FARM_PREFIX), (PROCESSOR, PROCESSOR_PREFIX)):
        if address in registered:
            c.run("participant", "prefix", "assign", address, prefix, "--account", "dev:0")


def create_batch(c: Cli, lot: str = "L1", quantity: int = 100, account: str = "dev:1") -> str:
    data = c.json("batch", "create", "--gtin", GTIN, "--lot", lot, "-q", str(quantity),
                  "--account", account)  # fmt: skip
    return str(data["batchId"])
