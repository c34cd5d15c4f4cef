"""`provenance index sync|status` on the demo + bulk chain: JSON and human output, the chain's
identity and lag, unconfirmed events, an unreachable chain, and the embedded chain refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from provenance.cli import cli
from tests.support import free_port
from tests.support.index import Rich

pytestmark = pytest.mark.anvil


@pytest.fixture
def home(rich: Rich, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data directory holding the rich chain's deployment record, and the CLI pointed at it."""
    (tmp_path / "deployments").mkdir()
    (tmp_path / "deployments" / rich.record.name).write_text(rich.record.read_text())
    monkeypatch.setenv("PROVENANCE_HOME", str(tmp_path))
    monkeypatch.setenv("PROVENANCE_RPC", rich.url)
    return tmp_path


def run(*args: str, expect: int = 0) -> Result:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == expect, (result.output, result.exception)
    return result


def run_json(*args: str) -> Any:
    return json.loads(run(*args, "--json").stdout)


def test_sync_then_status_as_json(rich: Rich, home: Path) -> None:
    before = run_json("index", "status")
    assert before["exists"] is False and before["reachable"] is True
    assert before["chain_id"] == 31337 and before["registry"] == rich.deployment.registry

    synced = run_json("index", "sync")
    head = rich.node.chain.w3.eth.block_number
    assert synced["tip"] == synced["chain_head"] == head and synced["complete"]
    assert synced["events_added"] > 300 and synced["confirmations"] == 0
    assert synced["reorgs"] == [] and synced["warnings"] == []
    assert Path(synced["path"]).parent == home / "index"

    status = run_json("index", "status")
    genesis = rich.node.chain.w3.eth.get_block(0)["hash"].hex()
    assert status["exists"] and status["path"] == synced["path"]
    assert status["genesis_hash"].removeprefix("0x") == genesis.removeprefix("0x")
    assert status["agreements"] == rich.deployment.agreements
    assert status["tip"] == head and status["lag"] == 0 and status["chain_head"] == head
    assert status["events"] == synced["events_added"] == sum(status["events_by_table"].values())
    assert status["events_by_table"]["HandoffAccepted"] >= 100
    assert status["unconfirmed_events"] == 0 and status["confirmed_through"] == head
    assert status["size_bytes"] > 100_000 and status["reorgs"] == 0

    again = run_json("index", "sync")
    assert again["events_added"] == 0 and again["first_block"] is None


def test_human_output(rich: Rich, home: Path) -> None:
    out = run("index", "sync").output
    assert "synced blocks" in out and "events/s" in out
    assert "index up to date at block" in run("index", "sync").output
    status = run("index", "status").output
    for text in (
        "chain          id 31337, genesis 0x",
        "registry       0x",
        "lag 0",
        "confirmations  0",
        "HandoffAccepted",
        "reorgs         0",
    ):
        assert text in status, status


def test_confirmations_mark_the_newest_events_unconfirmed(rich: Rich, home: Path) -> None:
    synced = run_json("index", "sync", "--confirmations", "4")
    status = run_json("index", "status")
    assert status["confirmations"] == 4
    assert status["confirmed_through"] == synced["chain_head"] - 4
    assert status["unconfirmed_events"] == 4 * 5  # the bulk history's blocks hold 5 each


def test_status_without_a_reachable_chain_answers_as_of_the_tip(
    rich: Rich, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced = run_json("index", "sync")
    dead = f"http://127.0.0.1:{free_port()}"
    record = json.loads((home / "deployments" / rich.record.name).read_text())
    (home / "deployments" / rich.record.name).write_text(json.dumps({**record, "rpc": dead}))
    monkeypatch.setenv("PROVENANCE_RPC", dead)
    status = run_json("index", "status")
    assert status["exists"] and status["reachable"] is False
    assert status["tip"] == synced["tip"] and status["lag"] is None
    assert "chain unreachable: answers are as of this block" in run("index", "status").output


def test_the_embedded_chain_has_nothing_to_index(home: Path) -> None:
    result = run("--rpc", "embedded", "index", "sync", expect=1)
    assert "no deployment on the embedded chain" in result.output


def test_the_index_commands_are_in_the_tree() -> None:
    group = cli.commands["index"]
    assert set(group.commands) == {"sync", "status"}  # type: ignore[attr-defined]
    options = {opt for p in group.commands["sync"].params for opt in p.opts}  # type: ignore[attr-defined]
    assert {"--follow", "--confirmations", "--max-range", "--max-rps", "--json"} <= options
    assert "12 on any other" in run("index", "sync", "--help").output


def test_listings_read_the_same_through_the_index(rich: Rich, home: Path) -> None:
    """`batch show`, `participant list`, `participant prefix list` and `agreement list` give the
    same output with the index (topped up over RPC) as without it, and do read the index."""
    from provenance.logs import count_calls
    from provenance.session import Session

    demo = rich.demo
    commands = [
        ("participant", "list"),
        ("participant", "prefix", "list"),
        ("agreement", "list"),
        ("batch", "show", demo.product),  # lot and parents from the events
        ("batch", "show", demo.raw_batch),
    ]

    def outputs() -> dict[tuple[str, ...], tuple[str, str]]:
        return {c: (run(*c).stdout, run(*c, "--json").stdout) for c in commands}

    without = outputs()
    synced = run_json("index", "sync")
    assert outputs() == without
    assert json.loads(without[("batch", "show", demo.product)][1])["parents"]

    for use_index in (True, False):
        session = Session(rich.url, root=home, use_index=use_index)
        with count_calls(session.chain()) as counter:
            participants = session.registry().list_participants()
            session.registry().parents_of(demo.product)
            terms = session.agreements().get(demo.agreement_id).terms
        assert (counter.get_logs == 0) is use_index, (use_index, counter.by_method)
        assert len(participants) >= 5 and terms.buyer in demo.cast.values()
        reader = session.event_reader()
        assert (reader is not None) is use_index
        if reader is not None:
            assert reader.as_of().index_tip == synced["tip"]
