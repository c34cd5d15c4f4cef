"""Helpers shared by the EPCIS tests: GS1's reference data (read from `../shared/epcis`, never
copied), validation of documents (JSON Schema, JSON-LD expansion offline), and the cast of a
supply chain on a fresh deployment."""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount

from provenance.chain import Chain, dev_accounts
from provenance.deploy import Deployment, deploy
from provenance.epcis.document import read
from provenance.epcis.importer import ImportReport, import_events
from provenance.epcis.store import EventStore
from provenance.outbox import Outbox
from provenance.records import Role
from provenance.registry import RegistryClient
from provenance.transactions import Transactor
from tests.support import PROJECT_ROOT

#: Where GS1's files are: $PROVENANCE_EPCIS_REFERENCE, else `<repo>/../shared/epcis`.
REFERENCE_ENV = "PROVENANCE_EPCIS_REFERENCE"
FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "epcis"
FIXTURE = FIXTURES / "farm-to-jam.jsonld"
GS1_CONTEXT_URL = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"

DEV = dev_accounts()
OPERATOR, FARM, CARRIER, PROCESSOR, RETAILER, CERTIFIER = DEV[:6]
GLNS = {
    FARM.address: 9506000000015,
    CARRIER.address: 9506000000022,
    PROCESSOR.address: 9521234000020,
    RETAILER.address: 9506000000046,
    CERTIFIER.address: 9506000000039,
}
ROLES = {
    FARM.address: Role.PRODUCER,
    CARRIER.address: Role.CARRIER,
    PROCESSOR.address: Role.PROCESSOR,
    RETAILER.address: Role.RETAILER,
    CERTIFIER.address: Role.CERTIFIER,
}
PREFIXES = {FARM.address: ("9506000", "0614141", "000009501234"), PROCESSOR.address: ("9521234",)}


def reference_dir() -> Path:
    return Path(os.environ.get(REFERENCE_ENV) or PROJECT_ROOT.parent / "shared" / "epcis")


def require_reference(request: pytest.FixtureRequest) -> Path:
    """GS1's reference files, or: fail under CI (the `CI` variable is set), else skip naming the
    test (`-ra` lists it in the summary)."""
    path = reference_dir()
    if (path / "EPCIS-JSON-Schema.json").is_file() and (path / "epcis-context.jsonld").is_file():
        return path
    message = (
        f"{request.node.nodeid}: GS1's EPCIS reference data not found at {path} "
        f"(set {REFERENCE_ENV} or place shared/epcis beside the repository)"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def reference(request: pytest.FixtureRequest) -> Path:
    return require_reference(request)


@functools.lru_cache(maxsize=2)
def _validator(path: str) -> Any:
    import jsonschema

    schema = json.loads(Path(path).read_text())
    return jsonschema.Draft7Validator(schema)


def assert_schema_valid(doc: Any, reference: Path) -> None:
    """Validate against GS1's EPCIS 2.0 JSON Schema (jsonschema), listing every error."""
    validator = _validator(str(reference / "EPCIS-JSON-Schema.json"))
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message[:300]}" for e in errors[:10])


def expand(doc: Any, reference: Path) -> Any:
    """JSON-LD expansion with GS1's context served from the reference folder (no network)."""
    from pyld import jsonld

    context = json.loads((reference / "epcis-context.jsonld").read_text())

    def loader(url: str, options: Any = None) -> dict[str, Any]:
        if url != GS1_CONTEXT_URL:
            raise AssertionError(f"the document needs {url}, which is not available offline")
        return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url,
                "document": context}  # fmt: skip

    return jsonld.expand(doc, {"documentLoader": loader})


def assert_valid_document(doc: Any, reference: Path) -> list[Any]:
    """Schema-valid and expandable as JSON-LD, with every event's type expanded to the EPCIS
    vocabulary; returns the expanded events."""
    assert_schema_valid(doc, reference)
    expanded = expand(doc, reference)
    assert expanded, "JSON-LD expansion produced nothing"
    return expanded  # type: ignore[no-any-return]


@dataclass
class Cast:
    """A fresh deployment with the supply chain's participants (GLNs, prefixes) registered."""

    chain: Chain
    deployment: Deployment
    root: Path

    @property
    def registry_address(self) -> str:
        return self.deployment.registry

    @property
    def deploy_block(self) -> int:
        return self.deployment.deploy_block

    def client(self, account: LocalAccount, *, outbox: bool = True) -> RegistryClient:
        box = Outbox(self.root / "outbox") if outbox else None
        tx = Transactor(self.chain, account, box, root=self.root)
        return RegistryClient(self.chain, self.registry_address, tx, deploy_block=self.deploy_block)

    def reader(self) -> RegistryClient:
        return RegistryClient(self.chain, self.registry_address, deploy_block=self.deploy_block)


def make_cast(chain: Chain, root: Path) -> Cast:
    deployment = deploy(chain, OPERATOR, save=False)
    cast = Cast(chain, deployment, root)
    operator = cast.client(OPERATOR, outbox=False)
    for address, role in ROLES.items():
        operator.register_participant(address, role, GLNS[address])
    for address, prefixes in PREFIXES.items():
        for prefix in prefixes:
            operator.assign_prefix(address, prefix)
    return cast


def load(path: Path) -> Any:
    return json.loads(path.read_text())


def run(cast: Cast, account: object, *paths: Path, store: EventStore, **kw: object) -> ImportReport:
    events = [e for path in paths for e in read(path)]
    return import_events(cast.client(account), events, store=store, **kw)  # type: ignore[arg-type]


def record_fixture(cast: Cast, store: EventStore) -> list[ImportReport]:
    """Farm, then processor, then certifier import the same document."""
    return [run(cast, who, FIXTURE, store=store) for who in (FARM, PROCESSOR, CERTIFIER)]
