"""An `epcis import` killed with SIGKILL halfway resumes with nothing lost or duplicated."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from provenance import node
from provenance.chain import connect, dev_accounts
from provenance.deploy import deploy
from provenance.logs import EventDecoder, fetch_logs
from provenance.records import Role
from provenance.registry import RegistryClient, registry_abi
from provenance.transactions import Transactor
from scripts.epcis_benchmark import FARM_GLN, PROCESSOR_GLN, generate
from tests.support import PROJECT_ROOT, free_port

EVENTS = 400  # 380 commissionings in createBatches of 5, 20 shipments


@pytest.mark.slow
@pytest.mark.anvil
def test_an_import_killed_midway_resumes_without_loss_or_duplicates(tmp_path: Path) -> None:
    root = tmp_path / "home"
    info = node.start("anvil", free_port(), tmp_path / "node", fresh=True)
    try:
        chain = connect(info.url)
        accounts = dev_accounts()
        deployment = deploy(chain, accounts[0], save=True, root=root)
        operator = RegistryClient.from_deployment(
            chain, deployment, Transactor(chain, accounts[0], root=root)
        )
        operator.register_participant(accounts[1].address, Role.PRODUCER, FARM_GLN)
        operator.register_participant(accounts[3].address, Role.PROCESSOR, PROCESSOR_GLN)
        operator.assign_prefix(accounts[1].address, "9506000")
        document = tmp_path / "events.jsonld"
        document.write_text(json.dumps(generate(EVENTS)))
        env = {**os.environ, "PROVENANCE_HOME": str(root), "PROVENANCE_RPC": info.url}
        command = [sys.executable, "-m", "provenance", "epcis", "import", str(document),
                   "--account", "dev:1", "--chunk-size", "5", "--json"]  # fmt: skip
        start = chain.w3.eth.block_number
        victim = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while chain.w3.eth.block_number < start + 10 and time.monotonic() < deadline:
            time.sleep(0.005)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        mined = chain.w3.eth.block_number - start
        assert 10 <= mined < 96, f"killed after {mined} blocks: not midway"
        resumed = subprocess.run(command, env=env, cwd=PROJECT_ROOT, capture_output=True,
                                 text=True, timeout=300)  # fmt: skip
        assert resumed.returncode == 0, resumed.stderr
        report = json.loads(resumed.stdout)
        counts = report["counts"]
        assert counts["recorded"] + counts["already recorded"] == EVENTS
        assert counts["failed"] == counts["rejected"] == 0
        decoder = EventDecoder(registry_abi())
        logs = decoder.decode_all(
            fetch_logs(
                chain,
                deployment.registry,
                [[decoder.topic("BatchCreated"), decoder.topic("HandoffInitiated")]],
                deployment.deploy_block,
            )
        )
        created = [e.args["batchId"] for e in logs if e.name == "BatchCreated"]
        shipped = [e.args["batchId"] for e in logs if e.name == "HandoffInitiated"]
        assert len(created) == len(set(created)) == EVENTS - EVENTS // 20
        assert len(shipped) == len(set(shipped)) == EVENTS - EVENTS // 20
        again = json.loads(
            subprocess.run(
                command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300
            ).stdout
        )
        assert again["transactions"] == 0 and again["counts"]["already recorded"] == EVENTS
    finally:
        node.stop(tmp_path / "node")
