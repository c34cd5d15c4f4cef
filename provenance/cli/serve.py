"""`serve`: the GS1 Digital Link resolver customers reach by scanning a label (read-only)."""

from __future__ import annotations

from pathlib import Path

import click

from provenance.cli.context import CONTEXT_SETTINGS, Env, pass_env
from provenance.cli.output import console
from provenance.exceptions import ConfigError

DEFAULT_PORT = 8000


def _checked_base_url(value: str | None) -> str | None:
    if value is None:
        return None
    import re

    text = value.strip().rstrip("/")
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", text):
        raise ConfigError(f"invalid --base-url {value!r}: expected http(s)://host[:port][/path]")
    return text


@click.command(
    context_settings=CONTEXT_SETTINGS,
    short_help="Serve the verification pages (GS1 Digital Link resolver, read-only).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(0, 65535),
    help="Port to listen on (0: any free port).",
)  # fmt: skip
@click.option(
    "--base-url",
    metavar="URL",
    help="Public address of the resolver, for the absolute links of the JSON and linkset "
    "answers (default: http://HOST:PORT). Labels should use the same (`label --resolver`).",
)
@click.option(
    "--directory",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Participant directory JSON the operator publishes: a name shows only where its "
    "entry's hash is the participant's on-chain metadata.",
)
@click.option(
    "--head-ttl",
    default=0.5,
    show_default=True,
    type=click.FloatRange(0, 60),
    help="Seconds between two reads of the chain head: a page is at most this much behind.",
)
@pass_env
def serve(
    env: Env,
    host: str,
    port: int,
    base_url: str | None,
    directory: Path | None,
    head_ttl: float,
) -> None:
    """Serve the verification page of every batch as a GS1 Digital Link resolver:
    GET /01/<GTIN>/10/<lot> shows the verdict, the product, the custody timeline, the lineage,
    attestations, recalls in the family and whether deliveries were paid under an agreement
    (never prices, amounts or penalties). Accept: application/json or ?format=json gives the
    report as JSON, ?linkType=linkset the batch's links; /.well-known/gs1resolver describes the
    resolver.

    It also answers EPCIS 2.0 queries (REST binding) over the chain's events: GET /epcis/events
    (eventType, MATCH_epc, MATCH_anyEPC, MATCH_epcClass, MATCH_anyEPCClass, EQ_bizStep,
    EQ_disposition, GE_eventTime, LT_eventTime, EQ_bizLocation, perPage, nextPageToken) and
    GET /epcis/events/<eventID, percent-encoded>.

    Read-only: it holds no key and has no write route. It reads the chain of --rpc and the
    deployment recorded for it; when the chain is unreachable, pages answer 503 and the server
    recovers by itself when the chain is back. Stop it with Ctrl-C.

    \b
    Example:
        provenance --rpc http://127.0.0.1:8545 serve --port 8000
        provenance serve --host 0.0.0.0 --base-url https://id.example.com --directory dir.json
        provenance label 09521234000013:JAM-2026-01-A --resolver https://id.example.com
        curl 'http://127.0.0.1:8000/epcis/events?EQ_bizStep=shipping&perPage=50'
    """
    from provenance.directory import Directory
    from provenance.web.app import create_app
    from provenance.web.server import bind, url_of
    from provenance.web.server import serve as run_server
    from provenance.web.source import RpcSource

    if env.embedded:
        raise ConfigError(
            "nothing to serve on the embedded chain (it lives only as long as one command): "
            "start a node (`provenance node start`) and pass --rpc, or run `provenance demo "
            "--serve` to serve the demo's chain"
        )
    published = Directory.load(directory) if directory is not None else Directory()
    public = _checked_base_url(base_url)
    chain = env.chain(for_write=True)
    deployment = env.deployment()
    try:
        sock = bind(host, port)
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc} (use another --port)"
        ) from exc
    url = url_of(sock)
    from provenance.index.store import index_path
    from provenance.verify import index_key

    index = index_path(index_key(chain.identity, deployment), env.session.root)
    source = RpcSource(chain, deployment, published, index=index)  # used once it exists
    app = create_app(source, base_url=public or url, head_ttl=head_ttl)
    for entry in published.entries:
        console.print(f"directory: {entry.name} {entry.address} metadata {entry.metadata_hash}")
    where = (
        "" if chain.reachable else " (the chain does not answer yet: pages say so until it does)"
    )
    console.print(
        f"serving {public or url} for registry {deployment.registry} on chain {chain.chain_id}"
        f"{where}; e.g. {url}/01/<GTIN>/10/<lot>. Ctrl-C stops."
    )
    run_server(app, sock, log_level="warning")


COMMANDS = [serve]
