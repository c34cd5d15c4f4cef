"""What tests share, in one place: every test module imports its helpers from `tests.support`
(this package), never from another test module or from a `conftest.py`.

- `tests.support` — ports, the project root, chain time;
- `tests.support.cli` — the CLI against a test chain (`Cli`, `make_cli`, the cast);
- `tests.support.chains` — the deploy + handoff round trip every supported chain runs;
- `tests.support.contracts` — the contract suites' `World` and payout models.

Fixtures stay in `conftest.py`.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def chain_time(chain: Any) -> int:
    """The timestamp of the latest block of a `provenance.chain.Chain`."""
    return int(chain.w3.eth.get_block("latest")["timestamp"])


def identity(chain_id: int = 31337, genesis: int = 1) -> Any:
    """A made-up `ChainIdentity`: its genesis hash is the keccak of `genesis`."""
    from eth_utils.crypto import keccak

    from provenance.chain import ChainIdentity

    return ChainIdentity(chain_id, "0x" + keccak(genesis.to_bytes(32, "big")).hex())


def offline_chain(url: str, chain_id: int = 31337, genesis: int = 1, timeout: float = 2.0) -> Any:
    """A `Chain` for an endpoint that is down (nothing answers at `url`)."""
    from provenance.chain import Chain

    return Chain.offline(url, identity(chain_id, genesis), timeout=timeout)
