"""Fault injection: SIGKILL the node in the middle of a run, restart it, flush the outbox.

50 handoffs (initiateHandoff by the producer + acceptHandoff by the carrier, 100 transactions)
go through real `Transactor`s journaling into one `Outbox`. After 25 handoffs Anvil and its
snapshot keeper are killed with SIGKILL: whatever it mined since the last snapshot (taken every
second) is lost, and the remaining 25 handoffs are signed offline and queued. Anvil restarts from
its state file and one `flush` must leave exactly 50 handoffs on the chain, none twice.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from provenance import node
from provenance.chain import connect
from provenance.compiler import load_artifact
from provenance.deploy import deploy
from provenance.gs1 import batch_id, gtin_to_int, lot_to_bytes32
from provenance.logs import EventDecoder, fetch_logs
from provenance.outbox import CONFIRMED, Outbox
from provenance.records import Role
from provenance.transactions import Transactor
from provenance.units import uom_to_bytes
from provenance.verify import Verdict, verify
from tests.support import free_port

HANDOFFS = 50
KILL_AFTER = 25


@pytest.mark.slow
@pytest.mark.anvil
def test_sigkill_mid_run_then_flush_records_every_handoff_exactly_once(
    tmp_path: Path, accounts: list[LocalAccount]
) -> None:
    root, port = tmp_path / "data", free_port()
    info = node.start("anvil", port, root, fresh=True)
    try:
        chain = connect(info.url)
        admin, producer, carrier = accounts[0], accounts[1], accounts[2]
        deployment = deploy(chain, admin, save=False)
        abi = load_artifact("ProvenanceRegistry").abi
        registry = chain.w3.eth.contract(
            address=Web3.to_checksum_address(deployment.registry), abi=abi
        )
        setup = Transactor(chain, admin, root=root)
        for account, role in ((producer, Role.PRODUCER), (carrier, Role.CARRIER)):
            setup.send(registry.functions.registerParticipant(account.address, int(role), 0,
                                                              b"\0" * 32))  # fmt: skip
        setup.send(registry.functions.assignPrefix(producer.address, 9506000, 7))
        gtin = gtin_to_int("09506000134352")
        lots = [f"FAULT-{i}" for i in range(HANDOFFS)]
        Transactor(chain, producer, root=root).send_many(
            [
                registry.functions.createBatch(
                    gtin, lot_to_bytes32(lot), 10, uom_to_bytes("KGM"), b"\0" * 32
                )
                for lot in lots
            ]
        )
        batches = [batch_id(gtin, lot) for lot in lots]
        time.sleep(1.2)  # the setup is in the state file

        outbox = Outbox(tmp_path / "outbox")
        sender = Transactor(chain, producer, outbox, root=root, receipt_timeout=10)
        receiver = Transactor(chain, carrier, outbox, root=root, receipt_timeout=10)
        queued = 0
        for i, batch in enumerate(batches):
            if i == KILL_AFTER:
                node.stop(root, hard=True)  # SIGKILL: no state saved on exit
            h = (batch, producer.address, carrier.address, 0, 1, 1, True, b"\0" * 32)
            results = [
                sender.send(registry.functions.initiateHandoff(h)),
                receiver.send(registry.functions.acceptHandoff(batch, b"\0" * 32)),
            ]
            queued += sum(r.queued for r in results)
        assert queued == 2 * (HANDOFFS - KILL_AFTER)

        info = node.start("anvil", port, root)  # reloads the state file
        lost = [
            e.tx_hash
            for e in outbox.entries(chain.identity, statuses=[CONFIRMED])
            if chain.receipt_or_none(bytes.fromhex(e.tx_hash[2:])) is None
        ]
        report = outbox.flush(chain)

        assert report.failed == () and report.still_pending == ()
        assert set(lost) <= set(report.resubmitted)  # what the kill lost was noticed and resent
        assert len(report.resubmitted) == len(lost) + queued
        assert len(report.already_recorded) == 2 * KILL_AFTER - len(lost)

        decoder = EventDecoder(abi)
        events = decoder.decode_all(
            fetch_logs(chain, deployment.registry, [decoder.topic("HandoffAccepted")],
                       deployment.deploy_block)
        )  # fmt: skip
        accepted = [e.args["batchId"] for e in events]
        assert len(accepted) == HANDOFFS and set(accepted) == set(batches)  # none twice
        for batch in batches:
            assert registry.functions.getBatch(batch).call()[0] == carrier.address
        assert verify(chain, deployment, batches[-1]).verdict is Verdict.VERIFIED
        print(
            f"\nfault test: {len(lost)} confirmed tx lost by SIGKILL, {queued} queued offline, "
            f"{len(report.resubmitted)} resubmitted, {len(report.already_recorded)} already "
            "recorded"
        )
        # A second flush has nothing left to send.
        assert outbox.flush(chain).resubmitted == ()
    finally:
        node.stop(root)
