"""The customer's path from the command line: the demo ends with the jar's page and label,
`provenance demo --serve` serves that page, `provenance serve` serves a node's deployment."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import zxingcpp
from click.testing import CliRunner
from PIL import Image

from provenance.cli import cli
from provenance.deploy import record_path
from provenance.directory import Directory
from scripts.screenshots import Site
from tests.support import PROJECT_ROOT, free_port

JAR = "/01/09521234000013/10/JAM-2026-01-A"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PROVENANCE_HOME", str(tmp_path))
    monkeypatch.delenv("PROVENANCE_RPC", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_demo_ends_with_the_jars_page_and_its_label(home: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--port", "8123"])
    assert result.exit_code == 0, result.output
    tail = result.output.rsplit("The jar on the shelf", 1)[1]
    url = f"http://127.0.0.1:8123{JAR}"
    svg = home / "demo" / "09521234000013_JAM-2026-01-A.svg"
    png = svg.with_suffix(".png")
    assert f"(lot A): its label {svg}" in tail and f"(also {png}) opens {url}" in tail
    assert "`provenance demo --serve`" in tail
    (code,) = zxingcpp.read_barcodes(Image.open(png))
    assert code.text == url
    directory = Directory.load(home / "demo" / "participants.json")
    assert {e.name for e in directory.entries} >= {"Green Valley Farm", "Sunny Jam Co."}


@contextmanager
def provenance(*args: str, env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "provenance", *args],
        cwd=env.get("PROVENANCE_HOME", PROJECT_ROOT),
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_for(url: str, process: subprocess.Popen[str], seconds: float = 120) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited {process.returncode}: {process.stdout.read()}")  # type: ignore[union-attr]
        try:
            return httpx.get(url, timeout=30)
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {seconds} s")


def test_demo_serve_runs_the_story_then_serves_the_jars_page(tmp_path: Path) -> None:
    port = free_port()
    env = {"PROVENANCE_HOME": str(tmp_path)}
    with provenance("--rpc", "embedded", "demo", "--serve", "--port", str(port), env=env) as p:
        page = wait_for(f"http://127.0.0.1:{port}{JAR}", p)
        assert page.status_code == 200
        assert "</span> WARNING</h1>" in page.text and "Sunny Jam Co." in page.text
        data = httpx.get(f"http://127.0.0.1:{port}{JAR}?format=json", timeout=30).json()
        assert data["verdict"] == "WARNING"
        assert data["resolver"]["link"] == f"http://127.0.0.1:{port}{JAR}"
        p.send_signal(signal.SIGINT)
        out, _ = p.communicate(timeout=30)
    assert f"serving the demo's chain on http://127.0.0.1:{port} (Ctrl-C stops)" in out


@pytest.mark.anvil
def test_serve_serves_a_nodes_deployment_with_its_directory(web_site: Site, tmp_path: Path) -> None:
    record = record_path(web_site.chain.identity, tmp_path)
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps(web_site.result.deployment.to_json()))
    directory = tmp_path / "participants.json"
    web_site.result.directory.save(directory)
    port = free_port()
    env = {"PROVENANCE_HOME": str(tmp_path)}
    args = ("--rpc", web_site.rpc, "serve", "--port", str(port), "--directory", str(directory))
    with provenance(*args, env=env) as process:
        page = wait_for(f"http://127.0.0.1:{port}{JAR}", process)
        assert page.status_code == 200 and "Green Valley Farm" in page.text
        farm = web_site.result.directory.entries[0]
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=30)
    assert f"directory: {farm.name} {farm.address} metadata {farm.metadata_hash}" in out
    assert (
        f"serving http://127.0.0.1:{port} for registry {web_site.result.deployment.registry}"
        in (out)
    )


def test_serve_refuses_the_embedded_chain_in_one_line(home: Path) -> None:
    result = CliRunner().invoke(cli, ["--rpc", "embedded", "serve"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: nothing to serve on the embedded chain")
    assert len(result.output.strip().splitlines()) == 1
