"""Mutation score of the contract test suites: the share of slither-mutate's mutants that they kill.

    python scripts/mutation_score.py                 # every source file, README figure untouched
    python scripts/mutation_score.py --write         # ... and write the figure into README.md
    python scripts/mutation_score.py --files contracts/libraries/Membership.sol

slither-mutate (from slither-analyzer, in .venv-slither) rewrites a contract in place, once per
mutant, and runs a test command; a mutant is killed when the command fails. This script runs it on
a copy of the project under build/mutation/ (node_modules linked), so the working tree is never
touched, with the Foundry unit and scenario suites as the test command (the invariant campaign is
left out: it would multiply the hours this takes). A mutant that does not compile is not counted.
Not a gate: the figure goes into the README (`make mutation`), the test command does not run this.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from readme_section import replace_section

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "mutation"
SOURCES = (
    "contracts/ProvenanceRegistry.sol",
    "contracts/SupplyAgreements.sol",
    "contracts/libraries/Membership.sol",
    "contracts/libraries/Derivations.sol",
    "contracts/libraries/RegistryCore.sol",
    "contracts/types/BatchWord.sol",
    "contracts/types/Lineage.sol",
    "contracts/types/AgreementState.sol",
    "contracts/utils/Signatures.sol",
)
COPIED = ("contracts", "tests/foundry", "bin", "foundry.toml", "package.json")
RESULTS = WORK / "results.json"  # per file, kept across runs so files can be measured one by one
RESULT = re.compile(r"\[(?P<mutator>\w+)\] Line (?P<line>\d+): .* --> (?P<outcome>CAUGHT|UNCAUGHT)")


def forge_binary() -> Path:
    """The platform forge binary (the npm wrapper node_modules/.bin/forge always exits 0)."""
    found = sorted(ROOT.glob("node_modules/@foundry-rs/forge-*/bin/forge"))
    if not found:
        raise SystemExit("forge is not installed: run `make setup`")
    return found[0]


def prepare_copy() -> Path:
    project = WORK / "project"
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir(parents=True)
    for name in COPIED:
        source = ROOT / name
        target = project / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
    (project / "node_modules").symlink_to(ROOT / "node_modules")
    return project


def mutate(project: Path, source: str, timeout: int) -> list[tuple[str, int, bool]]:
    forge = forge_binary()
    slither_mutate = ROOT / ".venv-slither" / "bin" / "slither-mutate"
    if not slither_mutate.exists():
        raise SystemExit("slither-mutate is not installed: run `make .venv-slither/.installed`")
    test_cmd = f"{forge} test --offline --fail-fast --no-match-path 'tests/foundry/invariant/*'"
    out_dir = WORK / "campaign" / Path(source).stem
    shutil.rmtree(out_dir, ignore_errors=True)
    env = {"PATH": f"{forge.parent}:/usr/bin:/bin"}
    result = subprocess.run(
        [
            str(slither_mutate),
            source,
            "--test-cmd",
            test_cmd,
            "--timeout",
            str(timeout),
            "--output-dir",
            str(out_dir),
            "-v",
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    log = result.stdout + result.stderr
    (WORK / f"{Path(source).stem}.log").write_text(log)
    outcomes = [
        (m["mutator"], int(m["line"]), m["outcome"] == "CAUGHT") for m in RESULT.finditer(log)
    ]
    if result.returncode != 0 and not outcomes:
        raise SystemExit(f"slither-mutate failed on {source}:\n{log[-3000:]}")
    return outcomes


def table(rows: dict[str, list[tuple[str, int, bool]]], seconds: float) -> str:
    lines = [
        f"Mutants of the contracts (slither-mutate, slither-analyzer 0.11.6) killed by the Foundry "
        f"unit and scenario suites; `make mutation` ({seconds / 3600:.1f} h here, 2 cores shared "
        "with other work).",
        "",
        "| file | mutants | killed | score |",
        "|---|---:|---:|---:|",
    ]
    total = killed = 0
    for source, outcomes in rows.items():
        n, k = len(outcomes), sum(caught for _, _, caught in outcomes)
        total, killed = total + n, killed + k
        score = f"{100 * k / n:.1f} %" if n else "–"
        lines.append(f"| `{source}` | {n} | {k} | {score} |")
    score = f"{100 * killed / total:.1f} %" if total else "–"
    lines.append(f"| **all measured** | **{total}** | **{killed}** | **{score}** |")
    missing = [source for source in SOURCES if source not in rows]
    if missing:
        lines += [
            "",
            "Not measured yet (about 1–2 h a file here; `python scripts/mutation_score.py --files "
            "FILE --write` adds one): " + ", ".join(f"`{source}`" for source in missing) + ".",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", nargs="*", default=list(SOURCES), help="files to mutate")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per test run")
    parser.add_argument("--write", action="store_true", help="write the figure into README.md")
    args = parser.parse_args(argv)
    project = prepare_copy()
    stored = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for source in args.files:
        started = time.monotonic()
        outcomes = mutate(project, source, args.timeout)
        stored[source] = {"outcomes": outcomes, "seconds": time.monotonic() - started}
        RESULTS.write_text(json.dumps(stored, indent=1))
        survived = [f"{m}@{line}" for m, line, caught in outcomes if not caught]
        print(f"{source}: {len(outcomes)} mutants, survived: {', '.join(survived) or 'none'}")
        sys.stdout.flush()
    rows = {
        source: [(m, int(line), bool(caught)) for m, line, caught in stored[source]["outcomes"]]
        for source in SOURCES
        if source in stored
    }
    text = table(rows, sum(stored[source]["seconds"] for source in rows))
    print(text)
    if args.write:
        replace_section("mutation", text)


if __name__ == "__main__":
    main()
