"""`make forge` must fail when a Foundry test fails.

The npm package `@foundry-rs/forge` 1.7.1 installs `node_modules/.bin/forge`, a node wrapper that
always exits 0, even when tests fail. The Makefile and scripts/coverage_report.py run the platform
binary instead; this test runs that binary on a one-test project whose test fails and checks the
exit code, so a wrapper slipping back in is caught.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def makefile_forge() -> Path:
    """The forge binary `make forge` runs, resolved the way the Makefile does."""
    out = subprocess.run(
        ["make", "-s", "-n", "forge"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"^(\S+/forge) test", out, re.MULTILINE)
    assert match, f"no forge command in `make -n forge`:\n{out}"
    return ROOT / match.group(1)


def test_make_forge_runs_the_platform_binary_not_the_npm_wrapper() -> None:
    forge = makefile_forge()
    assert forge.exists(), forge
    assert ".bin" not in forge.parts, f"{forge} is the npm wrapper, which always exits 0"


def test_forge_exits_non_zero_when_a_test_fails(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "test").mkdir()
    (tmp_path / "foundry.toml").write_text(
        f'[profile.default]\nsrc = "src"\ntest = "test"\nsolc = "{ROOT / "bin" / "solc"}"\n'
        'offline = true\nauto_detect_solc = false\nevm_version = "shanghai"\n'
    )
    (tmp_path / "test" / "Fails.t.sol").write_text(
        "// SPDX-License-Identifier: MIT\npragma solidity 0.8.37;\n"
        "contract FailsTest {\n    function test_fails() public pure { revert(); }\n"
        "    function test_passes() public pure {}\n}\n"
    )
    forge = makefile_forge()
    result = subprocess.run(
        [str(forge), "test", "--offline"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert "test_fails" in result.stdout + result.stderr
    assert result.returncode != 0, "forge reported a failing test with exit code 0"
