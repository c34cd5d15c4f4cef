"""`provenance outbox list|flush`: journaled transactions, queued while the chain is down."""

from __future__ import annotations

import pytest

from provenance.chain import Chain, dev_accounts
from provenance.outbox import Outbox
from provenance.registry import RegistryClient
from provenance.transactions import Transactor
from tests.support import free_port
from tests.support.cli import FARM, Cli, register_all

pytestmark = pytest.mark.anvil  # every test here runs on the session's Anvil


def test_list_shows_confirmed_transactions(c: Cli) -> None:
    register_all(c)  # 5 registrations, 2 company prefixes
    entries = c.json("outbox", "list", "--all")
    assert len(entries) == 7 and {e["status"] for e in entries} <= {"confirmed", "final"}
    assert "confirmed" in c.run("outbox", "list", "--all").output


def test_flush_sends_what_was_queued_while_the_chain_was_down(c: Cli) -> None:
    register_all(c)  # also teaches the transactor the chain's fees (its offline cache)
    down_url = f"http://127.0.0.1:{free_port()}"
    down = Chain.offline(down_url, c.chain.identity, timeout=2)
    tx = Transactor(down, dev_accounts(1)[0], Outbox.default(), root=c.home)
    queued = RegistryClient.from_deployment(down, c.deployment, tx).suspend_participant(FARM)
    assert queued.queued
    pending = [e for e in c.json("outbox", "list") if e["status"] == "pending"]
    assert [e["tx_hash"] for e in pending] == [queued.tx_hash]
    assert c.json("participant", "show", FARM)["active"] is True
    out = c.run("outbox", "flush").output
    assert queued.tx_hash in out
    assert c.json("participant", "show", FARM)["active"] is False


def test_flush_with_nothing_to_do(c: Cli) -> None:
    assert f"nothing to flush for {c.chain.identity.describe()}" in c.run("outbox", "flush").output
