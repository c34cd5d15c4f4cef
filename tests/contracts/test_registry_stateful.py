"""Stateful property test: random custody and lineage sequences against a Python model.

After every step the whole on-chain state of every batch must equal the model, which gives:
exactly one non-zero custodian per live batch, at most one pending handoff, quantity conserved
(live quantity + losses == quantity created), consumed and recalled batches frozen. Every action
the model forbids must revert; every action it allows must succeed.

`HYPOTHESIS_PROFILE=deep` runs 2000 examples instead of 200.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any

from eth_abi import decode, encode
from eth_utils import keccak, to_checksum_address
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from web3 import Web3
from web3.contract import Contract

settings.register_profile("default", max_examples=200, deadline=None)
settings.register_profile("deep", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# None = the actor the model expects (custodian or recipient); mostly that, sometimes anyone
ACTOR = st.sampled_from([None, None, None, 0, 1, 2, 3])
PRODUCER, CARRIER, DISTRIBUTOR = 1, 4, 8
GTIN = 9506000134352
DOC = b"\x0d" * 32
ZERO = "0x" + "00" * 20
MAX_BATCHES = 10
ACTIVE, CONSUMED = 1, 2
BATCH_INFO = "(address,address,address,address,uint8,bool,uint8,uint256,uint256,bytes3)"


@dataclass(frozen=True)
class ModelBatch:
    custodian: int  # index into the machine's actors
    owner: int
    creator: int
    quantity: int
    state: int = ACTIVE
    recalled: bool = False
    pending_to: int | None = None
    pending_own: bool = False

    @property
    def movable(self) -> bool:
        return self.state == ACTIVE and not self.recalled and self.pending_to is None


@dataclass
class Chain:
    w3: Web3
    reg: Contract
    admin: str
    actors: list[str]  # actors[0] is the producer
    abi: dict[str, tuple[bytes, list[str]]]  # function name -> (selector, argument types)
    errors: set[str]  # selectors of the registry's custom errors


def abi_type(item: dict[str, Any]) -> str:
    if item["type"].startswith("tuple"):
        return "(" + ",".join(abi_type(c) for c in item["components"]) + ")" + item["type"][5:]
    return str(item["type"])


def abi_tables(abi: list[dict[str, Any]]) -> tuple[dict[str, tuple[bytes, list[str]]], set[str]]:
    functions, errors = {}, set()
    for item in abi:
        if item["type"] in ("function", "error"):
            types = [abi_type(i) for i in item["inputs"]]
            selector = keccak(text=f"{item['name']}({','.join(types)})")[:4]
            if item["type"] == "function":
                functions[item["name"]] = (selector, types)
            elif item["name"].startswith("Registry"):
                errors.add("0x" + selector.hex())
    return functions, errors


def lot(n: int) -> bytes:
    return f"S{n}".encode().ljust(32, b"\0")


def batch_id(n: int) -> bytes:
    return keccak(encode(["uint256", "bytes32"], [GTIN, lot(n)]))


class RegistryMachine(RuleBasedStateMachine):
    chain: Chain

    def __init__(self) -> None:
        super().__init__()
        self.snap = self.chain.w3.provider.make_request("evm_snapshot", [])["result"]
        self.batches: dict[bytes, ModelBatch] = {}
        self.ids: list[bytes] = []
        self.next_lot = 0
        self.created = 0
        self.lost = 0

    def teardown(self) -> None:
        self.chain.w3.provider.make_request("evm_revert", [self.snap])

    # ------------------------------------------------------------- helpers

    def addr(self, actor: int) -> str:
        return self.chain.actors[actor]

    def pick(self, index: int) -> bytes:
        return self.ids[index % len(self.ids)]

    @staticmethod
    def who(actor: int | None, right: int | None) -> int:
        """`actor`, or for None the actor the model expects (to bias towards allowed actions)."""
        if actor is None:
            return right if right is not None else 0
        return actor

    def act(self, fn: str, args: list[Any], actor: int | str, allowed: bool) -> None:
        """Send `fn(*args)` if the model allows it (must succeed), else eth_call it (must revert
        with one of the registry's custom errors). Raw JSON-RPC: web3's contract layer would
        dominate the run time."""
        sender = actor if isinstance(actor, str) else self.addr(actor)
        selector, types = self.chain.abi[fn]
        tx = {
            "from": sender,
            "to": self.chain.reg.address,
            "data": "0x" + (selector + encode(types, args)).hex(),
        }
        provider = self.chain.w3.provider
        if not allowed:
            response = provider.make_request("eth_call", [tx, "latest"])
            error = response.get("error")
            assert error is not None, f"{fn} by {sender} should revert but would succeed"
            assert error.get("data", "")[:10] in self.chain.errors, (
                f"{fn}: unexpected revert {error}"
            )
            return
        tx["gas"] = hex(2_000_000)  # fixed gas: skips eth_estimateGas
        tx_hash = provider.make_request("eth_sendTransaction", [tx])["result"]
        receipt = provider.make_request("eth_getTransactionReceipt", [tx_hash])["result"]
        while receipt is None:  # automine normally answers at once
            receipt = provider.make_request("eth_getTransactionReceipt", [tx_hash])["result"]
        assert receipt["status"] == "0x1", f"{fn} by {sender} reverted"

    def new_lot(self) -> int:
        self.next_lot += 1
        return self.next_lot

    # --------------------------------------------------------------- rules

    @initialize(quantity=st.integers(1, 1000))
    def first_batch(self, quantity: int) -> None:
        self.create(quantity)

    @precondition(lambda self: len(self.ids) < 4)
    @rule(quantity=st.integers(1, 1000))
    def create(self, quantity: int) -> None:
        n = self.new_lot()
        self.act("createBatch", [GTIN, lot(n), quantity, b"KGM", DOC], 0, True)
        self.batches[batch_id(n)] = ModelBatch(custodian=0, owner=0, creator=0, quantity=quantity)
        self.ids.append(batch_id(n))
        self.created += quantity

    @rule(
        index=st.integers(0, 99), actor=st.integers(0, 3), to=st.integers(0, 3), own=st.booleans()
    )
    def initiate(self, index: int, actor: int, to: int, own: bool) -> None:
        bid = self.pick(index)
        b = self.batches[bid]
        ok = b.movable and b.custodian == actor and to != actor and (not own or b.owner == actor)
        h = (bid, self.addr(actor), self.addr(to), 0, 3, 1, own, DOC)
        self.act("initiateHandoff", [h], actor, ok)
        if ok:
            self.batches[bid] = replace(b, pending_to=to, pending_own=own)

    @rule(index=st.integers(0, 99), actor=ACTOR)
    def accept(self, index: int, actor: int | None) -> None:
        bid = self.pick(index)
        b = self.batches[bid]
        actor = self.who(actor, b.pending_to)
        ok = b.pending_to == actor and not b.recalled
        self.act("acceptHandoff", [bid], actor, ok)
        if ok:
            self.batches[bid] = replace(
                b,
                custodian=actor,
                owner=actor if b.pending_own else b.owner,
                pending_to=None,
                pending_own=False,
            )

    @rule(index=st.integers(0, 99), actor=ACTOR)
    def reject(self, index: int, actor: int | None) -> None:
        bid = self.pick(index)
        b = self.batches[bid]
        actor = self.who(actor, b.pending_to)
        ok = b.pending_to is not None and b.pending_to == actor
        self.act("rejectHandoff", [bid, DOC], actor, ok)
        if ok:
            self.batches[bid] = replace(b, pending_to=None, pending_own=False)

    @rule(index=st.integers(0, 99), actor=ACTOR)
    def cancel(self, index: int, actor: int | None) -> None:
        bid = self.pick(index)
        b = self.batches[bid]
        actor = self.who(actor, b.custodian)
        ok = b.pending_to is not None and b.custodian == actor
        self.act("cancelHandoff", [bid], actor, ok)
        if ok:
            self.batches[bid] = replace(b, pending_to=None, pending_own=False)

    @precondition(lambda self: len(self.ids) < MAX_BATCHES)
    @rule(
        index=st.integers(0, 99),
        actor=ACTOR,
        count=st.integers(1, 3),
        loss_seed=st.integers(0, 10**6),
        tamper=st.sampled_from([0, 0, 0, -1, 1]),
    )
    def split(self, index: int, actor: int | None, count: int, loss_seed: int, tamper: int) -> None:
        bid = self.pick(index)
        b = self.batches[bid]
        actor = self.who(actor, b.custodian)
        count = min(count, b.quantity)
        loss = loss_seed % (b.quantity - count + 1)
        rest = b.quantity - loss
        quantities = [rest // count] * (count - 1) + [rest - (rest // count) * (count - 1)]
        loss = max(0, loss + tamper)
        lots = [self.new_lot() for _ in quantities]
        ok = b.movable and b.custodian == actor and sum(quantities) + loss == b.quantity
        parts = [(lot(n), q) for n, q in zip(lots, quantities, strict=True)]
        self.act("splitBatch", [bid, parts, loss, DOC], actor, ok)
        if ok:
            self.batches[bid] = replace(b, state=CONSUMED)
            for n, q in zip(lots, quantities, strict=True):
                self.batches[batch_id(n)] = ModelBatch(
                    custodian=actor, owner=b.owner, creator=actor, quantity=q
                )
                self.ids.append(batch_id(n))
            self.lost += loss

    @precondition(lambda self: len(self.ids) >= 2)
    @rule(
        first=st.integers(0, 99),
        second=st.integers(0, 99),
        actor=ACTOR,
        loss=st.integers(0, 50),
    )
    def merge(self, first: int, second: int, actor: int | None, loss: int) -> None:
        a, c = self.pick(first), self.pick(second)
        ba, bc = self.batches[a], self.batches[c]
        actor = self.who(actor, ba.custodian)
        total = ba.quantity + bc.quantity
        ok = (
            a != c
            and ba.movable
            and bc.movable
            and ba.custodian == actor == bc.custodian
            and ba.owner == bc.owner
            and total > loss
        )
        n = self.new_lot()
        self.act("mergeBatches", [[a, c], lot(n), loss, DOC], actor, ok)
        if ok:
            self.batches[a] = replace(ba, state=CONSUMED)
            self.batches[c] = replace(bc, state=CONSUMED)
            self.batches[batch_id(n)] = ModelBatch(
                custodian=actor, owner=ba.owner, creator=actor, quantity=total - loss
            )
            self.ids.append(batch_id(n))
            self.lost += loss

    @rule(index=st.integers(0, 99), actor=st.integers(-1, 3), dice=st.integers(0, 3))
    def recall(self, index: int, actor: int, dice: int) -> None:
        if dice:
            return  # recalls freeze batches: keep them rare so custody moves get explored
        bid = self.pick(index)
        b = self.batches[bid]
        ok = not b.recalled and (actor == -1 or actor == b.creator)
        self.act("recallBatch", [bid, DOC], self.chain.admin if actor == -1 else actor, ok)
        if ok:
            self.batches[bid] = replace(b, recalled=True)

    # ---------------------------------------------------------- invariants

    @invariant()
    def chain_matches_model(self) -> None:
        if not self.ids:
            return
        # one JSON-RPC batch of raw getBatch eth_calls (web3's contract layer is the slow part here)
        selector = "0x" + self.chain.abi["getBatch"][0].hex()
        to = self.chain.reg.address
        requests = [
            ("eth_call", [{"to": to, "data": selector + bid.hex()}, "latest"]) for bid in self.ids
        ]
        responses = self.chain.w3.provider.make_batch_request(requests)
        infos = [decode([BATCH_INFO], bytes.fromhex(r["result"][2:]))[0] for r in responses]
        live = 0
        for bid, info in zip(self.ids, infos, strict=True):
            m = self.batches[bid]
            custodian, owner, pending_to, creator, state, recalled, flags, gtin, quantity, _uom = (
                info
            )
            custodian, owner, pending_to, creator = (
                to_checksum_address(a) for a in (custodian, owner, pending_to, creator)
            )
            assert custodian == self.addr(m.custodian) != ZERO  # exactly one non-zero custodian
            assert owner == self.addr(m.owner) and creator == self.addr(m.creator)
            assert pending_to == (
                ZERO if m.pending_to is None else self.addr(m.pending_to)
            )  # at most one
            assert bool(flags & 8) == m.pending_own
            assert (state, recalled, quantity, gtin) == (m.state, m.recalled, m.quantity, GTIN)
            if state == ACTIVE:
                live += quantity
        assert live + self.lost == self.created  # quantity conservation


def test_registry_state_machine(anvil_w3: Web3, deploy: Any) -> None:
    accounts = anvil_w3.eth.accounts
    admin = accounts[0]
    reg = deploy(anvil_w3, "ProvenanceRegistry", sender=admin)
    actors = accounts[1:5]
    for i, actor in enumerate(actors):
        tx = reg.functions.registerParticipant(
            actor, PRODUCER if i == 0 else CARRIER | DISTRIBUTOR, 0, DOC
        )
        anvil_w3.eth.wait_for_transaction_receipt(tx.transact({"from": admin}), poll_latency=0.002)
    RegistryMachine.chain = Chain(anvil_w3, reg, admin, list(actors), *abi_tables(reg.abi))
    run_state_machine_as_test(
        RegistryMachine,
        settings=settings(
            stateful_step_count=15, deadline=None, suppress_health_check=[HealthCheck.too_slow]
        ),
    )
