"""`provenance agreement …` against Anvil: the escrow lifecycle."""

from __future__ import annotations

from cli_support import (
    CARRIER,
    CERTIFIER,
    FARM,
    GTIN,
    PROCESSOR,
    Cli,
    chain_time,
    create_batch,
    register_all,
)


def _propose(c: Cli, *extra: str) -> int:
    deadline = str(chain_time(c.chain) + 7 * 86400)
    data = c.json("agreement", "propose", "--supplier", FARM, "--arbiter", CARRIER,
                  "--gtin", GTIN, "-q", "100", "--price", "1eth", "--deadline", deadline,
                  "--grace", "86400", "--penalty-bps-per-day", "100", "--penalty-cap-bps", "500",
                  *extra, "--account", "dev:3")  # fmt: skip
    return int(data["id"])


def test_propose_accept_fund_deliver_withdraw(c: Cli) -> None:
    register_all(c)
    agreement = _propose(c)
    assert agreement == 1
    c.run("agreement", "accept", "1", "--account", "dev:1")
    assert "fund agreement 1" in c.run("agreement", "fund", "1", "--account", "dev:3").output
    assert c.json("agreement", "show", "1")["status"] == "FUNDED"
    bid = create_batch(c, quantity=100)
    c.run("handoff", "send", bid, "--to", PROCESSOR, "--account", "dev:1")
    c.run("handoff", "accept", bid, "--account", "dev:3")
    c.run("agreement", "deliver", "1", "--batch", bid, "--account", "dev:1")
    assert c.json("agreement", "show", "1")["status"] == "SETTLED"
    before = c.chain.w3.eth.get_balance(FARM)
    c.run("agreement", "withdraw", "--account", "dev:1")
    assert c.chain.w3.eth.get_balance(FARM) > before
    listed = c.json("agreement", "list")
    assert [a["id"] for a in listed] == [1]
    out = c.run("agreement", "list").output
    assert "SETTLED" in out and "1 ETH" in out


def test_deliver_with_a_required_attestation(c: Cli) -> None:
    register_all(c)
    _propose(c, "--require", "ORGANIC")
    c.run("agreement", "accept", "1", "--account", "dev:1")
    c.run("agreement", "fund", "1", "--account", "dev:3")
    bid = create_batch(c, quantity=100)
    evidence = "0x" + "cd" * 32
    c.run("attest", "add", bid, "--claim", "ORGANIC", "--doc-hash", evidence,
          "--valid-from", "0", "--account", "dev:5")  # fmt: skip
    c.run("handoff", "send", bid, "--to", PROCESSOR, "--account", "dev:1")
    c.run("handoff", "accept", bid, "--account", "dev:3")
    c.run("agreement", "deliver", "1", "--batch", bid, "--attestation",
          f"{CERTIFIER}:{evidence}", "--account", "dev:7")  # fmt: skip
    assert c.json("agreement", "show", "1")["status"] == "SETTLED"
    assert "requires   ORGANIC" in c.run("agreement", "show", "1").output


def test_dispute_and_resolve_by_the_arbiter(c: Cli) -> None:
    register_all(c)
    _propose(c)
    c.run("agreement", "accept", "1", "--account", "dev:1")
    c.run("agreement", "fund", "1", "--account", "dev:3")
    c.run("agreement", "dispute", "1", "--reason", "short delivery", "--account", "dev:3")
    assert c.json("agreement", "show", "1")["status"] == "DISPUTED"
    c.run("agreement", "resolve", "1", "--supplier-amount", "0.4eth", "--account", "dev:2")
    assert c.json("agreement", "show", "1")["status"] == "RESOLVED"


def test_cancel_before_funding_and_not_after(c: Cli) -> None:
    register_all(c)
    _propose(c)
    _propose(c, "--salt", "1")
    out = c.run("agreement", "cancel", "1", "--account", "dev:1").output
    assert "cancel agreement 1: tx 0x" in out
    assert c.json("agreement", "show", "1")["status"] == "CANCELLED"
    c.run("agreement", "accept", "2", "--account", "dev:1")
    c.run("agreement", "fund", "2", "--account", "dev:3")
    refused = c.run("agreement", "cancel", "2", "--account", "dev:3", expect=1)
    assert refused.output.startswith("Error: agreement 2 is funded: this is not allowed")
    assert c.json("agreement", "show", "2")["status"] == "FUNDED"


def test_buyer_reclaims_after_deadline_and_grace_without_delivery(c: Cli) -> None:
    register_all(c)
    _propose(c)  # deadline in 7 days, 1 day grace
    c.run("agreement", "accept", "1", "--account", "dev:1")
    c.run("agreement", "fund", "1", "--account", "dev:3")
    early = c.run("agreement", "reclaim", "1", "--account", "dev:3", expect=1)
    assert early.output.startswith("Error: agreement 1 cannot be reclaimed before")
    assert len(early.output.strip().splitlines()) == 1
    c.chain.advance_time(8 * 86400 + 1)
    assert "reclaim agreement 1" in c.run("agreement", "reclaim", "1", "--account", "dev:3").output
    assert c.json("agreement", "show", "1")["status"] == "REFUNDED"
    before = c.chain.balance(PROCESSOR)
    c.run("agreement", "withdraw", "--account", "dev:3")
    assert c.chain.balance(PROCESSOR) > before + 10**18 - 10**16  # the price, less gas


def test_anyone_resolves_by_default_after_the_arbiter_timeout(c: Cli) -> None:
    register_all(c)
    _propose(c, "--arbiter-timeout", "3600")
    c.run("agreement", "accept", "1", "--account", "dev:1")
    c.run("agreement", "fund", "1", "--account", "dev:3")
    c.run("agreement", "dispute", "1", "--reason", "late", "--account", "dev:1")
    early = c.run("agreement", "resolve-default", "1", "--account", "dev:7", expect=1)
    assert early.output.startswith("Error: the arbiter of agreement 1 still has time until")
    c.chain.advance_time(3601)
    out = c.run("agreement", "resolve-default", "1", "--account", "dev:7").output
    assert "resolve agreement 1 by default: tx 0x" in out
    assert c.json("agreement", "show", "1")["status"] == "RESOLVED"
