"""Fixtures of the contract suites: one deployment per test module, rolled back after each test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from provenance.compiler import Artifact
from tests.support.contracts import World


@pytest.fixture(scope="module")
def world(
    anvil_w3: Web3,
    artifacts: dict[str, Artifact],
    deploy: Callable[..., Contract],
    accounts: list[LocalAccount],
) -> World:
    """A registry + agreements deployment with its participants, shared by a module's tests."""
    assert [a.address for a in accounts] == list(anvil_w3.eth.accounts)[: len(accounts)]
    return World(anvil_w3, artifacts, deploy, accounts)


@pytest.fixture
def w(world: World, snapshot: None) -> World:
    """The module's deployment; the chain is rolled back after the test."""
    return world


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every contract test runs on the session's Anvil: mark them `anvil`."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in item.path.resolve().parents:
            item.add_marker(pytest.mark.anvil)
