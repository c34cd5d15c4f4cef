"""CBV 2.0 vocabularies: business steps and dispositions, as the `uint8` codes the registry stores.

Codes are part of the on-chain record: append only, never renumber. 0 = not given. A user gives a
name (`shipping`), a CBV URI (`https://ref.gs1.org/cbv/BizStep-shipping`), a URN or the code.
"""

from __future__ import annotations

import re

from provenance.exceptions import InvalidInput

#: CBV 2.0 business steps: on-chain `uint8` code → name. 0 = not given. Codes are part of the
#: on-chain record: append only, never renumber.
BIZ_STEPS: dict[int, str] = dict(
    enumerate(
        [
            "shipping",
            "receiving",
            "departing",
            "arriving",
            "storing",
            "commissioning",
            "transforming",
            "inspecting",
            "packing",
            "unpacking",
            "loading",
            "unloading",
            "holding",
            "retail_selling",
            "accepting",
            "assembling",
            "collecting",
            "consigning",
            "creating_class_instance",
            "cycle_counting",
            "decommissioning",
            "destroying",
            "disassembling",
            "dispensing",
            "encoding",
            "entering_exiting",
            "installing",
            "killing",
            "other",
            "picking",
            "removing",
            "repackaging",
            "repairing",
            "replacing",
            "reserving",
            "sampling",
            "sensor_reporting",
            "staging_outbound",
            "stock_taking",
            "stocking",
            "transporting",
            "void_shipping",
        ],
        start=1,
    )
)

#: CBV 2.0 dispositions: on-chain `uint8` code → name. 0 = not given. Append only.
DISPOSITIONS: dict[int, str] = dict(
    enumerate(
        [
            "in_transit",
            "in_progress",
            "active",
            "recalled",
            "damaged",
            "conformant",
            "non_conformant",
            "sellable_accessible",
            "expired",
            "destroyed",
            "returned",
            "available",
            "completeness_inferred",
            "completeness_verified",
            "container_closed",
            "container_open",
            "dispensed",
            "disposed",
            "encoded",
            "inactive",
            "mismatch_instance",
            "mismatch_class",
            "mismatch_quantity",
            "needs_replacement",
            "no_pedigree_match",
            "non_sellable_other",
            "partially_dispensed",
            "reserved",
            "retail_sold",
            "sellable_not_accessible",
            "stolen",
            "unavailable",
            "unknown",
        ],
        start=1,
    )
)
BIZ_STEP_CODES = {name: code for code, name in BIZ_STEPS.items()}
DISPOSITION_CODES = {name: code for code, name in DISPOSITIONS.items()}


def _vocab_code(value: str | int | None, table: dict[int, str], kind: str) -> int:
    if value is None or value == "" or value == 0:
        return 0
    if isinstance(value, int):
        if value not in table:
            raise InvalidInput(f"unknown {kind} code {value}: valid codes are 0..{max(table)}")
        return value
    text = value.strip()
    if text.isascii() and text.isdigit():
        return _vocab_code(int(text), table, kind)
    # accept bare names, CBV URIs (https://ref.gs1.org/cbv/BizStep-shipping) and URNs
    name = re.split(r"[/:]", text)[-1]
    name = name.split("-", 1)[1] if "-" in name else name
    name = name.lower()
    for code, known in table.items():
        if known == name:
            return code
    raise InvalidInput(f"unknown {kind} {value!r}: choose from {', '.join(table.values())}")


def biz_step_code(value: str | int | None) -> int:
    """Code of a CBV business step given by name, CBV URI, URN or code (None/"" → 0)."""
    return _vocab_code(value, BIZ_STEPS, "business step")


def disposition_code(value: str | int | None) -> int:
    """Code of a CBV disposition given by name, CBV URI, URN or code (None/"" → 0)."""
    return _vocab_code(value, DISPOSITIONS, "disposition")
