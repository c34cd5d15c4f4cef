"""The end-to-end scenario behind `provenance demo`: a jar of jam, from the farm to the shelf.

Nothing here prints: `run` calls `on_step(step)` after each step with a `Step` record (who did
what, transactions, gas) and returns a `DemoResult` holding the verification `Report`s. The CLI
formats both.

The story (the dev accounts of the local chain play the parts):

1. the operator deploys the contracts, registers farm, carrier, processor, retailer and certifier,
   and assigns two GS1 company prefixes: the farm's (9506000) and the processor's (9521234);
2. the farm harvests two batches of strawberries under its prefix; the certifier attests the first
   ORGANIC;
3. processor (buyer) and farm (supplier) agree, with escrow: 1000 kg ±2 %, 1 ETH, due in two
   days, late penalty 2.5 % a day, ORGANIC attested by the certifier named in the terms, tender
   to the carrier named in the terms (as FCA); the farm signs the terms offline (EIP-712) and the
   processor records them and funds the escrow;
4. the harvest is late: the farm tenders three days later, one whole day late: the penalty is
   fixed at the tender;
5. the carrier takes the goods and carries the last leg to the processor (a day on the road: it
   does not count against the farm);
6. the processor accepts the delivery: custody and title pass and the agreement settles in that
   same transaction; both withdraw their credit;
7. the processor makes jam under its own prefix (it is the jam's origin), splits it into lots A
   and B and sells lot A to the retailer;
8. the processor recalls lot B; the customer verifies lot A (WARNING: its sibling is recalled),
   lot B (FAILED), the farm's batch (WARNING: a descendant is recalled) and the farm's other,
   unrelated batch (VERIFIED).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from eth_account.signers.local import LocalAccount

from provenance.agreements import AgreementsClient
from provenance.cbv import biz_step_code, disposition_code
from provenance.chain import EMBEDDED, Chain, dev_accounts
from provenance.deploy import Deployment, deploy
from provenance.directory import Directory
from provenance.encoding import Hex32, keccak_hex
from provenance.gs1 import batch_id
from provenance.money import format_eth
from provenance.records import AgreementTerms, Leg, RequiredClaim, TxResult
from provenance.registry import RegistryClient, TransformOutput
from provenance.times import DAY
from provenance.transactions import Transactor
from provenance.verify import Report, Verdict, verify

FARM_PREFIX = "9506000"  # the farm's GS1 company prefix
PROCESSOR_PREFIX = "9521234"  # the processor's
RAW_GTIN = "09506000134352"  # strawberries, by the kilo (farm's prefix)
JAM_GTIN = "09521234000013"  # a jar of strawberry jam (processor's prefix)
RAW_LOT = "STRAW-2026-001"
OTHER_LOT = "STRAW-2026-002"
JAM_LOT = "JAM-2026-01"
CAST = ("operator", "farm", "carrier", "processor", "retailer", "certifier", "arbiter")
PRICE_WEI = 10**18  # 1 ETH
TOLERANCE_BPS = 200  # ±2 % of the agreed quantity
PENALTY_BPS_PER_DAY = 250  # 2.5 % per whole day late at the tender
PENALTY_CAP_BPS = 1_000
#: The names the operator publishes in its participant directory (each registered with the hash
#: of its directory entry as metadata, so the resolver can show them).
PUBLISHED_NAMES = {
    "farm": "Green Valley Farm",
    "carrier": "Swift Haulage",
    "processor": "Sunny Jam Co.",
    "retailer": "Corner Shop",
    "certifier": "EcoCert Lab",
}
#: The four batches the customer verifies, and the verdict the story leads to.
EXPECTED = {
    "lot A": Verdict.WARNING,  # its sibling lot B is recalled
    "lot B": Verdict.FAILED,  # recalled
    "farm batch": Verdict.WARNING,  # a descendant (lot B) is recalled
    "unrelated batch": Verdict.VERIFIED,
}


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
    raw_batch: Hex32  # the farm's strawberries, delivered under the agreement
    unrelated: Hex32  # the farm's other harvest, in no agreement and no recall
    product: Hex32  # lot A, the jar on the retailer's shelf
    recalled: Hex32  # lot B, recalled by the processor
    agreement_id: int
    days_late: int
    supplier_amount: int
    penalty: int
    buyer_refund: int
    total_gas: int
    report: Report  # lot A's
    reports: dict[str, Report] = field(default_factory=dict)  # keys of `EXPECTED`
    steps: tuple[Step, ...] = field(default=())
    directory: Directory = field(default_factory=Directory)  # what the operator publishes

    @property
    def names(self) -> dict[str, str]:
        return {address: part for part, address in self.cast.items()}

    @property
    def verdicts(self) -> dict[str, Verdict]:
        return {label: report.verdict for label, report in self.reports.items()}


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
        self,
        actor: str,
        title: str,
        *results: TxResult,
        details: tuple[str, ...] = (),
        gas: int = 0,
        tx_hashes: tuple[str, ...] = (),
    ) -> None:
        gas += sum(r.gas_used or 0 for r in results)
        self.total_gas += gas
        record = Step(
            number=len(self.steps) + 1,
            actor=actor,
            title=title,
            details=details,
            tx_hashes=tx_hashes + tuple(r.tx_hash for r in results),
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
    """Play the whole scenario on `chain` (a fresh deployment) and verify the four batches.

    `save` records the deployment (default: not on the embedded chain); `root` is the data
    directory for the deployment record and the transactors' lock files.
    """
    story = _Story(chain, on_step, root)
    cast = story.cast

    # 1. deploy, register, assign the company prefixes ----------------------------------------
    deployment = deploy(
        chain, story.keys["operator"], force=True,
        save=chain.rpc != EMBEDDED if save is None else save, root=root,
    )  # fmt: skip
    story.step(
        "operator", "deployed the libraries, then ProvenanceRegistry, which created "
        "SupplyAgreements",
        gas=_deploy_gas(chain, deployment), tx_hashes=tuple(deployment.tx_hashes.values()),
        details=(f"registry {deployment.registry}", f"agreements {deployment.agreements}"),
    )  # fmt: skip

    def registry(part: str) -> RegistryClient:
        return RegistryClient.from_deployment(chain, deployment, story.transactor(part))

    def agreements(part: str) -> AgreementsClient:
        return AgreementsClient.from_deployment(chain, deployment, story.transactor(part))

    operator = registry("operator")
    directory = Directory.of({cast[part]: name for part, name in PUBLISHED_NAMES.items()})
    metadata = {entry.address: entry.metadata_hash for entry in directory.entries}
    roles = {
        "farm": "producer",
        "carrier": "carrier",
        "processor": "processor",
        "retailer": "retailer",
        "certifier": "certifier",
    }
    results = [
        operator.register_participant(cast[part], role, 0, metadata[cast[part]])
        for part, role in roles.items()
    ]
    results += [
        operator.assign_prefix(cast["farm"], FARM_PREFIX),
        operator.assign_prefix(cast["processor"], PROCESSOR_PREFIX),
    ]
    story.step(
        "operator", "registered the participants and assigned two GS1 company prefixes", *results,
        details=(
            *(f"{part:9} {cast[part]} as {role}" for part, role in roles.items()),
            f"prefix {FARM_PREFIX} → farm (its GTIN {RAW_GTIN})",
            f"prefix {PROCESSOR_PREFIX} → processor (its GTIN {JAM_GTIN})",
        ),
    )  # fmt: skip

    # 2. the harvest and its certificate ------------------------------------------------------
    farm = registry("farm")
    harvest_report = keccak_hex(b"harvest report: 1000 kg strawberries, field 7, 2026-06-01")
    raw, created = farm.create_batch(RAW_GTIN, RAW_LOT, 1000, "KGM", harvest_report)
    other_report = keccak_hex(b"harvest report: 200 kg strawberries, field 9, 2026-06-01")
    other, created_other = farm.create_batch(RAW_GTIN, OTHER_LOT, 200, "KGM", other_report)
    story.step(
        "farm", f"harvested {RAW_LOT} (1000 kg) and {OTHER_LOT} (200 kg) under its prefix",
        created, created_other,
        details=(f"{RAW_LOT} {raw}", f"{OTHER_LOT} {other} (stays on the farm)"),
    )  # fmt: skip
    now = chain.now()
    certificate = keccak_hex(b"organic certificate EU-BIO-123 for STRAW-2026-001")
    _att, attested = registry("certifier").attest(
        raw, "ORGANIC", certificate, now - 60, now + 365 * DAY
    )
    story.step(
        "certifier", f"attested {RAW_LOT} ORGANIC (valid one year)", attested,
        details=(f"evidence {certificate}",),
    )  # fmt: skip

    # 3. the agreement: signed offline by the farm, recorded and funded by the processor ------
    terms = AgreementTerms(
        buyer=cast["processor"],
        supplier=cast["farm"],
        arbiter=cast["arbiter"],
        carrier=cast["carrier"],
        gtin=RAW_GTIN,
        quantity=1000,
        uom="KGM",
        tolerance_bps=TOLERANCE_BPS,
        price=PRICE_WEI,
        delivery_deadline=now + 2 * DAY,
        grace_period=5 * DAY,
        inspection_period=2 * DAY,
        arbiter_timeout=7 * DAY,
        penalty_bps_per_day=PENALTY_BPS_PER_DAY,
        penalty_cap_bps=PENALTY_CAP_BPS,
        required_claims=(RequiredClaim("ORGANIC", cast["certifier"]),),
        document=keccak_hex(b"supply contract: 1000 kg organic strawberries, tender in 2 days"),
    )
    buyer = agreements("processor")
    approval = agreements("farm").sign(story.keys["farm"], terms, deadline=now + DAY)
    agreement_id, proposed = buyer.propose_signed(terms, supplier=approval)
    funded = buyer.fund(agreement_id, terms)
    story.step(
        "processor", f"agreement {agreement_id} with the farm: signed by the farm offline "
        "(EIP-712), recorded and funded by the processor", proposed, *funded,
        details=(
            f"{format_eth(terms.escrow())} in escrow: 1 ETH for 1000 kg ±2 %, ORGANIC attested "
            "by the certifier",
            "tender due in 2 days, to the carrier named in the terms (as FCA)",
            f"late penalty {PENALTY_BPS_PER_DAY / 100:g} % per whole day late at the tender, "
            f"capped at {PENALTY_CAP_BPS / 100:g} %",
        ),
    )  # fmt: skip

    # 4. the late tender ------------------------------------------------------------------------
    chain.advance_time(3 * DAY + 3600)
    story.step("farm", "rain delays the harvest: three days pass (chain time +3 days)")
    despatch = keccak_hex(b"despatch advice DA-778 farm -> processor, via carrier")
    proofs = farm.claim_proofs(raw, terms.required_claims)
    leg = Leg(0, biz_step_code("shipping"), disposition_code("in_transit"), despatch)
    tendered = agreements("farm").tender(agreement_id, raw, leg=leg, proofs=proofs, terms=terms)
    days_late = buyer.tenders_of(agreement_id)[-1][1]  # as the contract measured it
    supplier_amount, buyer_refund = terms.payout(1000, days_late)
    penalty = terms.penalty_for(days_late)
    story.step(
        "farm", f"tendered {RAW_LOT} under agreement {agreement_id} to the carrier: "
        f"{days_late} day late, so the penalty is fixed now", tendered,
        details=(
            f"penalty {format_eth(penalty)} ({days_late} × {PENALTY_BPS_PER_DAY / 100:g} %), "
            "whenever the processor accepts",
            f"ORGANIC proven by the certifier's attestation on {proofs[0].subject[:10]}…",
        ),
    )  # fmt: skip

    # 5. the carrier's last leg --------------------------------------------------------------
    carrier = registry("carrier")
    picked = carrier.accept_handoff(raw, despatch)
    chain.advance_time(DAY)
    leg_two = carrier.make_handoff(
        raw, cast["processor"], biz_step="shipping", disposition="in_transit", document=despatch
    )
    sent = carrier.initiate_handoff(leg_two)
    story.step(
        "carrier", "picked the strawberries up and, a day on the road later, handed them to "
        "the processor (the bound delivery can only end there)", picked, sent,
        details=("the day on the road does not count: lateness was measured at the tender",),
    )  # fmt: skip

    # 6. acceptance settles ------------------------------------------------------------------
    receiving = keccak_hex(b"receiving advice RA-778: 1000 kg, organic, good condition")
    accepted = buyer.accept_delivery(agreement_id, raw, receiving, terms)
    withdrawn = agreements("farm").withdraw()
    refund = buyer.withdraw()
    story.step(
        "processor", f"accepted the delivery: custody and title passed and agreement "
        f"{agreement_id} settled in the same transaction", accepted, withdrawn, refund,
        details=(
            f"farm credited {format_eth(supplier_amount)} (1 ETH minus the "
            f"{format_eth(penalty)} penalty)",
            f"processor got back {format_eth(buyer_refund)} (penalty + unused tolerance)",
            "both withdrew their credit",
        ),
    )  # fmt: skip

    # 7. jam under the processor's prefix, two lots, lot A to the shelf -----------------------
    processor = registry("processor")
    recipe = keccak_hex(b"recipe: strawberry jam, 50 % fruit, batch record JR-12")
    (jam,), transformed = processor.transform_batches(
        [raw], [TransformOutput(JAM_GTIN, JAM_LOT, 2000, "H87")], recipe
    )
    story.step(
        "processor", f"made 2000 jars of jam ({JAM_LOT}, GTIN {JAM_GTIN} under its own prefix) "
        "from the strawberries: it is the jam's origin", transformed,
        details=(f"jam {jam}",),
    )  # fmt: skip
    (lot_a, lot_b), split = processor.split_batch(
        jam, [(f"{JAM_LOT}-A", 1200), (f"{JAM_LOT}-B", 800)], parent_lot=JAM_LOT
    )
    story.step(
        "processor", "split the jars into two lots for two shops", split,
        details=(f"{JAM_LOT}-A 1200 jars {lot_a}", f"{JAM_LOT}-B  800 jars {lot_b}"),
    )  # fmt: skip
    shelf = processor.make_handoff(
        lot_a, cast["retailer"], biz_step="shipping", disposition="in_transit",
        transfer_ownership=True,
    )  # fmt: skip
    sold = processor.initiate_handoff(shelf)
    stocked = registry("retailer").accept_handoff(lot_a)
    story.step("processor", "sold lot A to the retailer, who accepted it", sold, stocked)

    # 8. recall and verification --------------------------------------------------------------
    notice = keccak_hex(b"recall notice RN-5: glass fragments in JAM-2026-01-B")
    recalled = processor.recall_batch(lot_b, "glass fragments", notice)
    story.step(
        "processor", "recalled lot B (glass fragments) as the jam's origin: lot B and anything "
        "made from it are frozen", recalled,
        details=("lot A is its sibling; the farm's strawberries are its ancestor",),
    )  # fmt: skip
    names = {address: part for part, address in cast.items()}
    targets = {"lot A": lot_a, "lot B": lot_b, "farm batch": raw, "unrelated batch": other}
    reports = {label: verify(chain, deployment, bid, names=names) for label, bid in targets.items()}
    story.step(
        "customer", "verified four batches from their GS1 Digital Links",
        details=tuple(
            f"{label:15} {reports[label].verdict.value:8} {link}"
            for label, link in (
                ("lot A", f"https://id.gs1.org/01/{JAM_GTIN}/10/{JAM_LOT}-A"),
                ("lot B", f"https://id.gs1.org/01/{JAM_GTIN}/10/{JAM_LOT}-B"),
                ("farm batch", f"https://id.gs1.org/01/{RAW_GTIN}/10/{RAW_LOT}"),
                ("unrelated batch", f"https://id.gs1.org/01/{RAW_GTIN}/10/{OTHER_LOT}"),
            )
        ),
    )  # fmt: skip
    assert batch_id(JAM_GTIN, f"{JAM_LOT}-A") == lot_a
    return DemoResult(
        deployment=deployment,
        cast=cast,
        raw_batch=raw,
        unrelated=other,
        product=lot_a,
        recalled=lot_b,
        agreement_id=agreement_id,
        days_late=days_late,
        supplier_amount=supplier_amount,
        penalty=penalty,
        buyer_refund=buyer_refund,
        total_gas=story.total_gas,
        report=reports["lot A"],
        reports=reports,
        steps=tuple(story.steps),
        directory=directory,
    )


# --------------------------------------------------------------------------- chain helpers


def _deploy_gas(chain: Chain, deployment: Deployment) -> int:
    total = 0
    for tx_hash in deployment.tx_hashes.values():
        receipt = chain.receipt_or_none(bytes.fromhex(tx_hash.removeprefix("0x")))
        if receipt is not None:
            total += int(receipt["gasUsed"])
    return total
