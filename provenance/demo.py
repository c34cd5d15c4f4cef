"""The end-to-end scenario behind `provenance demo`: a jar of jam, from the farm to the shelf.

Nothing here prints: `run` calls `on_step(step)` after each step with a `Step` record (who did
what, transactions, gas) and returns a `DemoResult` holding the final verification `Report`. The
CLI formats both.

The story (the dev accounts of the local chain play the parts):

1. the operator deploys the contracts and registers farm, carrier, processor, retailer, certifier;
2. the farm creates a batch of strawberries; the certifier attests it ORGANIC;
3. processor (buyer) and farm (supplier) agree on price, deadline and a late penalty, with escrow;
4. farm → carrier (send + accept); the truck is late (time moves forward on the chain);
5. carrier → processor in one transaction: the processor co-signs offline (EIP-712), the
   carrier relays it with `recordHandoff`;
6. the delivery settles the agreement: the farm is paid minus the late penalty;
7. the processor makes jam (transform), splits it into two lots, ships one to the retailer;
8. the sibling lot is recalled; the customer verifies the retailer's jar and sees the whole story.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from eth_account.signers.local import LocalAccount

from provenance.agreements import AgreementsClient
from provenance.chain import EMBEDDED, Chain, dev_accounts
from provenance.deploy import Deployment, deploy
from provenance.registry import RegistryClient, TransformOutput
from provenance.transactions import Transactor
from provenance.types import (
    AgreementTerms,
    Hex32,
    TxResult,
    batch_id,
    keccak_hex,
    text_to_bytes32,
)
from provenance.verify import Report, verify

DAY = 24 * 3600
RAW_GTIN = "09506000134352"  # strawberries, by the kilo
JAM_GTIN = "09506000134369"  # a jar of strawberry jam
CAST = ("operator", "farm", "carrier", "processor", "retailer", "certifier", "arbiter")
PRICE_WEI = 10**18  # 1 ETH
PENALTY_BPS_PER_DAY = 250  # 2.5 % per full day late
PENALTY_CAP_BPS = 1_000


@dataclass(frozen=True)
class Step:
    """One step of the story, for the CLI to show."""

    number: int
    actor: str  # who acts: one of CAST, or "customer"
    title: str  # what happened, in one line
    details: tuple[str, ...] = ()
    tx_hashes: tuple[str, ...] = ()
    gas_used: int = 0


@dataclass(frozen=True)
class DemoResult:
    deployment: Deployment
    cast: dict[str, str]  # part → address
    raw_batch: Hex32
    product: Hex32  # the jar the customer verifies (retailer's lot)
    recalled: Hex32  # its recalled sibling
    agreement_id: int
    supplier_amount: int
    penalty: int
    total_gas: int
    report: Report
    steps: tuple[Step, ...] = field(default=())

    @property
    def names(self) -> dict[str, str]:
        return {address: part for part, address in self.cast.items()}


OnStep = Callable[[Step], None]


class _Story:
    """Runs the steps, numbering them and summing gas."""

    def __init__(self, chain: Chain, on_step: OnStep | None, root: Path | None) -> None:
        self.chain = chain
        self.on_step = on_step or (lambda _step: None)
        self.root = root
        self.steps: list[Step] = []
        self.total_gas = 0
        keys = dev_accounts(len(CAST))
        self.keys: dict[str, LocalAccount] = dict(zip(CAST, keys, strict=True))
        self.cast: dict[str, str] = {part: str(key.address) for part, key in self.keys.items()}

    def step(
        self, actor: str, title: str, *results: TxResult, details: tuple[str, ...] = ()
    ) -> None:
        gas = sum(r.gas_used or 0 for r in results)
        self.total_gas += gas
        record = Step(
            number=len(self.steps) + 1,
            actor=actor,
            title=title,
            details=details,
            tx_hashes=tuple(r.tx_hash for r in results),
            gas_used=gas,
        )
        self.steps.append(record)
        self.on_step(record)

    def transactor(self, part: str) -> Transactor:
        return Transactor(self.chain, self.keys[part], None, root=self.root)


def run(
    chain: Chain,
    *,
    on_step: OnStep | None = None,
    save: bool | None = None,
    root: Path | None = None,
) -> DemoResult:
    """Play the whole scenario on `chain` (a fresh deployment) and verify the retail product.

    `save` records the deployment (default: not on the embedded chain); `root` is the data
    directory for the deployment record and the transactors' lock files.
    """
    story = _Story(chain, on_step, root)
    cast = story.cast

    # 1. deploy and register ------------------------------------------------------------------
    deployment = deploy(
        chain, story.keys["operator"], force=True,
        save=chain.rpc != EMBEDDED if save is None else save, root=root,
    )  # fmt: skip
    deploy_gas = _deploy_gas(chain, deployment)
    story.total_gas += deploy_gas
    story.steps.append(
        Step(1, "operator", "deployed ProvenanceRegistry and SupplyAgreements",
             (f"registry {deployment.registry}", f"agreements {deployment.agreements}"),
             tuple(deployment.tx_hashes.values()), deploy_gas)
    )  # fmt: skip
    story.on_step(story.steps[-1])

    def registry(part: str) -> RegistryClient:
        return RegistryClient.from_deployment(chain, deployment, story.transactor(part))

    def agreements(part: str) -> AgreementsClient:
        return AgreementsClient.from_deployment(chain, deployment, story.transactor(part))

    operator = registry("operator")
    roles = {
        "farm": "producer",
        "carrier": "carrier",
        "processor": "processor",
        "retailer": "retailer",
        "certifier": "certifier",
    }
    results = [
        operator.register_participant(cast[part], role, 0, text_to_bytes32(part))
        for part, role in roles.items()
    ]
    story.step(
        "operator", "registered the participants", *results,
        details=tuple(f"{part:9} {cast[part]} as {role}" for part, role in roles.items()),
    )  # fmt: skip

    # 2. origin batch and its certificate -----------------------------------------------------
    farm = registry("farm")
    harvest_report = keccak_hex(b"harvest report: 1000 kg strawberries, field 7, 2026-06-01")
    raw, result = farm.create_batch(RAW_GTIN, "STRAW-2026-001", 1000, "KGM", harvest_report)
    story.step(
        "farm", "created batch STRAW-2026-001: 1000 kg of strawberries", result,
        details=(f"batch {raw}", f"harvest report {harvest_report}"),
    )  # fmt: skip

    now = chain.now()
    certificate = keccak_hex(b"organic certificate EU-BIO-123 for STRAW-2026-001")
    _att, result = registry("certifier").attest(
        raw, "ORGANIC", certificate, now - 60, now + 365 * DAY
    )
    story.step(
        "certifier", "attested the batch ORGANIC (valid one year)", result,
        details=(f"evidence {certificate}",),
    )  # fmt: skip

    # 3. the agreement ------------------------------------------------------------------------
    terms = AgreementTerms(
        buyer=cast["processor"],
        supplier=cast["farm"],
        arbiter=cast["arbiter"],
        gtin=RAW_GTIN,
        quantity=1000,
        uom="KGM",
        price=PRICE_WEI,
        delivery_deadline=now + 2 * DAY,
        grace_period=5 * DAY,
        penalty_bps_per_day=PENALTY_BPS_PER_DAY,
        penalty_cap_bps=PENALTY_CAP_BPS,
        arbiter_timeout=7 * DAY,
        required_claims=(text_to_bytes32("ORGANIC"),),
        document=keccak_hex(b"supply contract: 1000 kg organic strawberries, delivery in 2 days"),
    )
    buyer = agreements("processor")
    agreement_id, proposed = buyer.propose(terms)
    accepted = agreements("farm").accept(agreement_id, terms)
    funded = buyer.fund(agreement_id, terms)
    story.step(
        "processor", f"agreement {agreement_id} with the farm: proposed, accepted, funded",
        proposed, accepted, *funded,
        details=(
            "1 ETH in escrow for 1000 kg ORGANIC strawberries, due in 2 days",
            f"late penalty {PENALTY_BPS_PER_DAY / 100:g} % per day, capped at "
            f"{PENALTY_CAP_BPS / 100:g} %",
        ),
    )  # fmt: skip

    # 4. farm → carrier ----------------------------------------------------------------------
    lading = keccak_hex(b"bill of lading BL-778 farm -> processor")
    handoff = farm.make_handoff(
        raw, cast["carrier"], biz_step="shipping", disposition="in_transit", document=lading
    )
    sent = farm.initiate_handoff(handoff)
    carrier = registry("carrier")
    accepted = carrier.accept_handoff(raw)
    story.step(
        "farm", "handed the batch to the carrier (send, then the carrier accepts)", sent, accepted,
        details=(f"bill of lading {lading}",),
    )  # fmt: skip

    late = 3 * DAY + 3600
    chain.advance_time(late)
    story.step("carrier", "the truck breaks down: it arrives 3 days later (chain time +3 days)")

    # 5. carrier → processor, co-signed offline -------------------------------------------------
    arrival = carrier.make_handoff(
        raw, cast["processor"], biz_step="receiving", disposition="in_progress", document=lading
    )
    processor = registry("processor")
    signed = processor.sign_handoff(story.keys["processor"], arrival, deadline=chain.now() + 3600)
    recorded = carrier.record_handoff(arrival, None, signed)
    story.step(
        "carrier",
        "delivered to the processor in one transaction (processor signed offline, EIP-712)",
        recorded,
        details=(f"processor's signature nonce {signed.nonce}, deadline {signed.deadline}",),
    )  # fmt: skip

    # 6. settlement ----------------------------------------------------------------------------
    settled = agreements("farm").claim_delivery(
        agreement_id, raw, [(cast["certifier"], certificate)], terms
    )
    days_late = (chain.now() - terms.delivery_deadline) // DAY
    penalty = terms.penalty_for(max(days_late, 0))
    withdrawn = agreements("farm").withdraw()
    refund = agreements("processor").withdraw()
    story.step(
        "farm", f"delivery settled agreement {agreement_id}: paid, minus the late penalty",
        settled, withdrawn, refund,
        details=(
            f"{days_late} day(s) late: penalty {penalty / 10**18:g} ETH back to the processor",
            f"farm withdrew {(PRICE_WEI - penalty) / 10**18:g} ETH",
        ),
    )  # fmt: skip

    # 7. jam, lots and the shelf ---------------------------------------------------------------
    recipe = keccak_hex(b"recipe: strawberry jam, 50 % fruit, batch record JR-12")
    (jam,), transformed = processor.transform_batches(
        [raw], [TransformOutput(JAM_GTIN, "JAM-2026-01", 2000, "H87")], recipe
    )
    story.step(
        "processor", "made 2000 jars of jam (JAM-2026-01) from the strawberries", transformed,
        details=(f"product batch {jam}",),
    )  # fmt: skip
    (lot_a, lot_b), split = processor.split_batch(
        jam, [("JAM-2026-01-A", 1200), ("JAM-2026-01-B", 800)]
    )
    story.step(
        "processor", "split the jars into two lots for two shops", split,
        details=(f"JAM-2026-01-A 1200 jars {lot_a}", f"JAM-2026-01-B  800 jars {lot_b}"),
    )  # fmt: skip
    shelf = processor.make_handoff(
        lot_a, cast["retailer"], biz_step="shipping", disposition="in_transit"
    )
    sent = processor.initiate_handoff(shelf)
    accepted = registry("retailer").accept_handoff(lot_a)
    story.step("processor", "shipped lot A to the retailer, who accepted it", sent, accepted)

    # 8. recall and verification ---------------------------------------------------------------
    recalled = processor.recall_batch(lot_b, "glass fragments in lot B")
    story.step("processor", "recalled lot B (glass fragments); lot A is its sibling", recalled)
    report = verify(chain, deployment, lot_a, names={a: p for p, a in cast.items()})
    story.step(
        "customer", f"scanned a jar of lot A and verified it: {report.verdict.value}",
        details=(f"GS1 Digital Link https://id.gs1.org/01/{JAM_GTIN}/10/JAM-2026-01-A",),
    )  # fmt: skip
    assert batch_id(JAM_GTIN, "JAM-2026-01-A") == lot_a
    return DemoResult(
        deployment=deployment,
        cast=cast,
        raw_batch=raw,
        product=lot_a,
        recalled=lot_b,
        agreement_id=agreement_id,
        supplier_amount=PRICE_WEI - penalty,
        penalty=penalty,
        total_gas=story.total_gas,
        report=report,
        steps=tuple(story.steps),
    )


# --------------------------------------------------------------------------- chain helpers


def _deploy_gas(chain: Chain, deployment: Deployment) -> int:
    total = 0
    for tx_hash in deployment.tx_hashes.values():
        receipt = chain.receipt_or_none(bytes.fromhex(tx_hash.removeprefix("0x")))
        if receipt is not None:
            total += int(receipt["gasUsed"])
    return total
