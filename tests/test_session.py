"""The session: which chain (recorded node — running or not —, `--rpc`, embedded), its identity,
the deployment, the signer, one transactor and its outbox; and the shells use it, never a
connection of their own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from provenance import node
from provenance.exceptions import ChainUnreachable, ConfigError
from provenance.outbox import Outbox
from provenance.session import Session
from tests.support import PROJECT_ROOT, free_port

#: What only the session (and the library below it) may build: a connection, a transactor, an
#: outbox. The shells ask the session for them.
BUILDERS = {"connect", "Transactor", "Outbox"}
SHELLS = [
    *sorted((PROJECT_ROOT / "provenance" / "cli").glob("*.py")),
    *sorted((PROJECT_ROOT / "provenance" / "web").glob("*.py")),
    PROJECT_ROOT / "scripts" / "deploy.py",
]


@pytest.mark.parametrize("path", SHELLS, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_the_shells_get_chain_transactor_and_outbox_from_the_session(path: Path) -> None:
    for call in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(call, ast.Call):
            func = call.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            assert name not in BUILDERS, (
                f"{path.relative_to(PROJECT_ROOT)}:{call.lineno} calls {name}(): ask the Session"
            )


def test_without_rpc_or_a_recorded_node_the_chain_is_embedded(tmp_path: Path) -> None:
    session = Session(root=tmp_path)
    assert session.target().via == "embedded" and session.embedded
    assert session.chain().identity.chain_id == session.identity.chain_id
    with pytest.raises(ConfigError, match="there is no deployment on the embedded chain"):
        session.deployment()


@pytest.mark.anvil
def test_a_recorded_node_is_the_chain_running_or_not(tmp_path: Path) -> None:
    info = node.start("anvil", free_port(), tmp_path, fresh=True, state_interval=0)
    try:
        running = Session(root=tmp_path)
        assert running.target().via == "node" and running.target().url == info.url
        assert running.identity == info.chain_identity
        deployed = running.deploy(admin_delay=0) if False else None  # (no deployment needed)
        assert deployed is None
    finally:
        node.stop(tmp_path)

    down = Session(root=tmp_path)  # the record outlives `node stop`: the chain is down
    assert down.target().via == "node" and not down.embedded
    with pytest.raises(ChainUnreachable) as refused:
        down.chain()
    assert str(refused.value) == (
        f"the anvil node recorded in {tmp_path / 'node'} ({info.url}) is not running: start it "
        "with `provenance node start` (or pass --rpc URL)"
    )
    offline = down.chain(for_write=True)  # a write is signed for the node's chain and queued
    assert not offline.reachable and offline.identity == info.chain_identity


@pytest.mark.anvil
def test_every_write_of_a_session_goes_through_one_transactor_and_its_outbox(
    tmp_path: Path,
) -> None:
    info = node.start("anvil", free_port(), tmp_path, fresh=True, state_interval=0)
    try:
        session = Session(info.url, account="dev:0", root=tmp_path)
        deployment = session.deploy(admin_delay=0)
        transactor = session.transactor()
        assert session.registry(write=True).transactor is transactor
        assert session.agreements(write=True).transactor is transactor
        assert transactor.outbox is session.outbox
        assert session.outbox.directory == tmp_path / "outbox"
        assert session.deployment() == deployment
        journaled = {e.tx_hash for e in Outbox(tmp_path / "outbox").entries(session.identity)}
        assert session.signed and set(session.signed) <= journaled  # the deployment's too
        # A second session on the same data directory finds the deployment by the identity.
        again = Session(info.url, root=tmp_path)
        assert again.deployment().registry == deployment.registry
    finally:
        node.stop(tmp_path)
