"""`provenance agreement …` and the delivery commands (`handoff send --agreement`, the buyer's
`handoff accept|reject`) against Anvil: the escrow lifecycle."""

from __future__ import annotations

import json

import pytest

from provenance.chain import dev_accounts
from tests.support import chain_time
from tests.support.cli import (
    CARRIER,
    CERTIFIER,
    FARM,
    GTIN,
    PROCESSOR,
    Cli,
    create_batch,
    register_all,
)

pytestmark = pytest.mark.anvil  # every test here runs on the session's Anvil

ARBITER = dev_accounts(8)[7].address  # dev:7, not a participant: arbiters need no registration
DAY = 86_400
ETH = 10**18


def _propose(c: Cli, *extra: str, deadline_in: int = 7 * DAY) -> int:
    deadline = str(chain_time(c.chain) + deadline_in)
    data = c.json("agreement", "propose", "--supplier", FARM, "--arbiter", ARBITER,
                  "--gtin", GTIN, "-q", "100", "--price", "1eth", "--deadline", deadline,
                  "--grace", "1d", "--penalty-bps-per-day", "100", "--penalty-cap-bps", "500",
                  *extra, "--account", "dev:3")  # fmt: skip
    return int(data["id"])


def _funded(c: Cli, *extra: str, deadline_in: int = 7 * DAY) -> int:
    agreement = _propose(c, *extra, deadline_in=deadline_in)
    c.run("agreement", "accept", str(agreement), "--account", "dev:1")
    c.run("agreement", "fund", str(agreement), "--account", "dev:3")
    return agreement


def _status(c: Cli, agreement: int = 1) -> str:
    return str(c.json("agreement", "show", str(agreement))["status"])


def _credit(c: Cli, account: str) -> int:
    from provenance.agreements import AgreementsClient

    return AgreementsClient.from_deployment(c.chain, c.deployment).credit_of(account)


def test_tender_then_acceptance_settles_in_the_same_transaction(c: Cli) -> None:
    register_all(c)
    assert _propose(c) == 1
    c.run("agreement", "accept", "1", "--account", "dev:1")
    assert "fund agreement 1" in c.run("agreement", "fund", "1", "--account", "dev:3").output
    assert _status(c) == "FUNDED"
    bid = create_batch(c, quantity=100)
    out = c.run("handoff", "send", bid, "--agreement", "1", "--account", "dev:1").output
    assert f"tendered {bid} under agreement 1 to {PROCESSOR}" in out
    assert _status(c) == "TENDERED"
    shown = c.json("batch", "show", bid)
    assert shown["bound_to"] == PROCESSOR and shown["agreement"] == 1 and shown["tender_leg"]
    shown_agreement = c.json("agreement", "show", "1")
    assert shown_agreement["tendered_batch"] == bid and shown_agreement["days_late"] == 0
    out = c.run("handoff", "accept", bid, "--account", "dev:3").output
    assert f"accepted the delivery {bid}: agreement 1 settled" in out
    assert _status(c) == "SETTLED"
    shown = c.json("batch", "show", bid)
    assert shown["custodian"] == shown["owner"] == PROCESSOR and shown["bound_to"] is None
    assert _credit(c, FARM) == ETH
    before = c.chain.balance(FARM)
    c.run("agreement", "withdraw", "--account", "dev:1")
    assert c.chain.balance(FARM) > before
    assert [a["id"] for a in c.json("agreement", "list")] == [1]
    out = c.run("agreement", "list").output
    assert "SETTLED" in out and "1 ETH" in out
    report = json.loads(c.run("verify", bid, "--json").stdout)
    (delivery,) = report["agreements"]
    assert delivery["status"] == "settled" and delivery["supplier_amount"] == ETH
    assert report["owner"] == PROCESSOR


def test_a_carrier_tender_point_and_a_claim_attested_on_an_ancestor(c: Cli) -> None:
    """FCA: the tender goes to the carrier the terms name, who carries the last leg; the ORGANIC
    certificate was issued on the parent before a split and still counts for the child."""
    register_all(c)
    _funded(c, "--carrier", CARRIER, "--require", f"ORGANIC@{CERTIFIER}")
    parent = create_batch(c, "P1", 150)
    c.run("attest", "add", parent, "--claim", "ORGANIC", "--doc-hash", "0x" + "cd" * 32,
          "--valid-from", "2020-01-01", "--account", "dev:5")  # fmt: skip
    child, _rest = c.json("batch", "split", parent, "--part", "P1-A:100", "--part", "P1-B:50",
                          "--account", "dev:1")["children"]  # fmt: skip
    assert "requires   ORGANIC attested by" in c.run("agreement", "show", "1").output
    c.run("handoff", "send", child, "--agreement", "1", "--account", "dev:1")
    assert c.json("batch", "show", child)["pending_to"] == CARRIER
    c.run("handoff", "accept", child, "--account", "dev:2")  # the carrier picks it up
    refused = c.run("handoff", "send", child, "--to", FARM, "--account", "dev:2", expect=1)
    assert "bound to an agreement with buyer" in refused.output
    c.run("handoff", "send", child, "--to", PROCESSOR, "--account", "dev:2")
    c.run("handoff", "accept", child, "--account", "dev:3")
    assert _status(c) == "SETTLED"
    report = json.loads(c.run("verify", child, "--json").stdout)
    (delivery,) = report["agreements"]
    assert delivery["carrier"] == CARRIER and delivery["status"] == "settled"


def test_a_tender_without_the_required_claim_is_refused(c: Cli) -> None:
    register_all(c)
    _funded(c, "--require", f"ORGANIC@{CERTIFIER}")
    bid = create_batch(c, quantity=100)
    refused = c.run("handoff", "send", bid, "--agreement", "1", "--account", "dev:1", expect=1)
    assert "claim ORGANIC" in refused.output and "is not vouched for by" in refused.output
    assert _status(c) == "FUNDED"


def test_lateness_is_measured_at_the_tender_not_at_the_acceptance(c: Cli) -> None:
    register_all(c)
    _funded(c, "--tolerance", "2%", "--grace", "3d", deadline_in=DAY)
    bid = create_batch(c, quantity=99)  # within ±2 %: paid pro rata
    c.chain.advance_time(2 * DAY + 60)  # one whole day late (grace: three days)
    c.run("handoff", "send", bid, "--agreement", "1", "--account", "dev:1")
    c.chain.advance_time(5 * DAY)  # the buyer takes its time: it does not count
    c.run("handoff", "accept", bid, "--account", "dev:3")
    payment = ETH * 99 // 100
    penalty = payment * 100 // 10_000  # one day at 1 %
    assert _credit(c, FARM) == payment - penalty
    assert _credit(c, PROCESSOR) == ETH * 102 // 100 - (payment - penalty)
    assert c.json("agreement", "show", "1")["days_late"] == 1


def test_rejection_opens_a_dispute_and_the_supplier_tenders_again(c: Cli) -> None:
    register_all(c)
    _funded(c)
    bid = create_batch(c, quantity=100)
    c.run("handoff", "send", bid, "--agreement", "1", "--account", "dev:1")
    out = c.run("handoff", "reject", bid, "--reason", "mould", "--account", "dev:3").output
    assert f"rejected the delivery {bid} under agreement 1" in out
    shown = c.json("agreement", "show", "1")
    assert shown["status"] == "DISPUTED" and shown["dispute_kind"] == "REJECTED"
    batch = c.json("batch", "show", bid)
    assert batch["custodian"] == batch["owner"] == FARM and batch["bound_to"] is None
    warned = json.loads(c.run("verify", bid, "--json", expect=1).stdout)
    assert warned["agreements"][0]["status"] == "rejected"
    c.run("handoff", "send", bid, "--agreement", "1", "--account", "dev:1")  # a re-tender
    c.run("handoff", "accept", bid, "--account", "dev:3")
    assert _status(c) == "SETTLED"
    report = json.loads(c.run("verify", bid, "--json").stdout)
    (delivery,) = report["agreements"]
    assert (delivery["tenders"], delivery["rejections"], delivery["status"]) == (2, 1, "settled")


def test_the_supplier_withdraws_a_tender_before_it_is_taken(c: Cli) -> None:
    register_all(c)
    _funded(c, "--carrier", CARRIER)
    first, second = create_batch(c, "W1", 100), create_batch(c, "W2", 100)
    c.run("handoff", "send", first, "--agreement", "1", "--account", "dev:1")
    out = c.run("agreement", "withdraw-tender", "1", "--account", "dev:1").output
    assert "withdraw the tender of agreement 1" in out
    assert _status(c) == "FUNDED"
    c.run("handoff", "send", second, "--agreement", "1", "--account", "dev:1")
    out = c.run("handoff", "cancel", second, "--account", "dev:1").output
    assert "withdrew the tender" in out and _status(c) == "FUNDED"
    c.run("handoff", "send", first, "--agreement", "1", "--account", "dev:1")
    c.run("handoff", "accept", first, "--account", "dev:2")
    refused = c.run("agreement", "withdraw-tender", "1", "--account", "dev:1", expect=1)
    assert "already accepted by the tender point" in refused.output


def test_escalation_and_the_default_pays_the_supplier(c: Cli) -> None:
    register_all(c)
    _funded(c, "--inspection", "1d", "--arbiter-timeout", "1h")
    bid = create_batch(c, quantity=100)
    c.run("handoff", "send", bid, "--agreement", "1", "--account", "dev:1")
    early = c.run("agreement", "escalate", "1", "--reason", "x", "--account", "dev:1", expect=1)
    assert "may still inspect the tender until" in early.output
    c.chain.advance_time(DAY + 1)
    c.run("agreement", "escalate", "1", "--reason", "no answer", "--account", "dev:1")
    assert c.json("agreement", "show", "1")["dispute_kind"] == "ESCALATED"
    early = c.run("agreement", "resolve-default", "1", "--account", "dev:7", expect=1)
    assert early.output.startswith("Error: the arbiter of agreement 1 still has time until")
    c.chain.advance_time(3601)
    out = c.run("agreement", "resolve-default", "1", "--account", "dev:7").output
    assert "resolve agreement 1 by default: tx 0x" in out
    assert _status(c) == "RESOLVED" and _credit(c, FARM) == ETH
    assert c.json("batch", "show", bid)["owner"] == PROCESSOR  # title passed by default
    report = json.loads(c.run("verify", bid, "--json", expect=None).stdout)
    assert report["titles"][-1]["via"] == "award"
    assert report["agreements"][0]["resolved_by_default"] is True


def test_the_arbiter_resolves_an_escalation_with_delivery(c: Cli) -> None:
    register_all(c)
    _funded(c, "--inspection", "1h")
    bid = create_batch(c, quantity=100)
    c.run("handoff", "send", bid, "--agreement", "1", "--account", "dev:1")
    c.chain.advance_time(3601)
    c.run("agreement", "escalate", "1", "--reason", "no answer", "--account", "dev:1")
    refused = c.run("agreement", "resolve", "1", "--supplier-amount", "0.5eth", "--account",
                    "dev:3", expect=1)  # fmt: skip
    assert "is not the arbiter of agreement 1" in refused.output
    c.run("agreement", "resolve", "1", "--supplier-amount", "0.6eth", "--deliver",
          "--account", "dev:7")  # fmt: skip
    assert _status(c) == "RESOLVED"
    assert _credit(c, FARM) == 6 * ETH // 10 and _credit(c, PROCESSOR) == 4 * ETH // 10
    assert c.json("batch", "show", bid)["owner"] == PROCESSOR


def test_cancel_before_funding_and_by_the_supplier_after(c: Cli) -> None:
    register_all(c)
    _propose(c)
    _propose(c, "--salt", "1")
    out = c.run("agreement", "cancel", "1", "--account", "dev:1").output
    assert "cancel agreement 1: tx 0x" in out
    assert _status(c) == "CANCELLED"
    c.run("agreement", "accept", "2", "--account", "dev:1")
    c.run("agreement", "fund", "2", "--account", "dev:3")
    refused = c.run("agreement", "cancel", "2", "--account", "dev:3", expect=1)
    assert refused.output.startswith("Error: ") and "not the supplier of agreement 2" in (
        refused.output
    )
    c.run("agreement", "cancel", "2", "--account", "dev:1")
    assert _status(c, 2) == "REFUNDED" and _credit(c, PROCESSOR) == ETH


def test_buyer_reclaims_after_deadline_and_grace_without_a_tender(c: Cli) -> None:
    register_all(c)
    _funded(c)  # deadline in 7 days, 1 day grace
    early = c.run("agreement", "reclaim", "1", "--account", "dev:3", expect=1)
    assert early.output.startswith("Error: agreement 1 cannot be reclaimed before")
    assert len(early.output.strip().splitlines()) == 1
    c.chain.advance_time(8 * DAY + 1)
    assert "reclaim agreement 1" in c.run("agreement", "reclaim", "1", "--account", "dev:3").output
    assert _status(c) == "REFUNDED"
    before = c.chain.balance(PROCESSOR)
    c.run("agreement", "withdraw", "--account", "dev:3")
    assert c.chain.balance(PROCESSOR) > before + ETH - 10**16  # the price, less gas


def test_funding_and_tendering_close_with_the_deadline(c: Cli) -> None:
    register_all(c)
    _propose(c, deadline_in=DAY)
    c.run("agreement", "accept", "1", "--account", "dev:1")
    c.chain.advance_time(DAY + 1)
    refused = c.run("agreement", "fund", "1", "--account", "dev:3", expect=1)
    assert "can no longer be funded" in refused.output
