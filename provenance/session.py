"""One `Session` per process: which chain, what it is, the deployment, the signer, the transactor.

The CLI, the scripts and any server build a `Session` and ask it for what they need; each piece
is made once, on first use, and heavy imports (web3, eth-abi) happen only then — importing this
module is cheap, so `provenance --help` stays fast.

Which chain (`Session.chain`):

1. `rpc` given (`--rpc` / `PROVENANCE_RPC`): that endpoint, or the embedded chain for `embedded`;
2. else the node recorded in the data directory (`provenance node start`) — **whether or not it
   is running**: a recorded node that does not answer means the chain is down, so a write is
   signed and queued in the outbox for that node's chain and a read fails saying the node is not
   running; it never means "use the embedded chain";
3. else the embedded in-process chain (nothing persists between commands).

An endpoint that does not answer is still usable for writes when a local record knows its
identity (the node record, or a deployment record made through that URL): the transaction is
signed for that identity and queued. Every local record is bound to the identity, so nothing is
ever sent to another chain that happens to have the same chain id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from provenance.config import data_dir
from provenance.exceptions import ChainUnreachable, ConfigError, KeystoreError

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from provenance.agreements import AgreementsClient
    from provenance.chain import Chain, ChainIdentity
    from provenance.deploy import Deployment
    from provenance.node import NodeInfo
    from provenance.outbox import Outbox
    from provenance.registry import RegistryClient
    from provenance.transactions import Transactor
    from provenance.verify import Report
    from provenance.verify.source import IndexReader

EMBEDDED = "embedded"
ACCOUNT_ENV = "PROVENANCE_ACCOUNT"

PasswordSource = Callable[[], str]


@dataclass(frozen=True)
class Target:
    """Where the session's chain is, and why: `via` is "rpc", "node" or "embedded"."""

    url: str
    via: str
    node: NodeInfo | None = None
    known: ChainIdentity | None = None  # what a local record says this endpoint's chain is

    @property
    def embedded(self) -> bool:
        return self.url == EMBEDDED


class Session:
    """The connection, identity, deployment, signer and transactor of one process.

    `rpc`: an endpoint URL or "embedded" (None: the recorded node, else embedded). `account`: a
    keystore name, an address held in the keystore, or `dev:N`; or `signer`, an unlocked account
    (a script that decrypted its own key). `password`: called when a keystore is opened. `root`:
    the data directory (default `PROVENANCE_HOME` or ./.provenance).
    """

    def __init__(
        self,
        rpc: str | None = None,
        *,
        account: str | None = None,
        password: PasswordSource | None = None,
        root: Path | None = None,
        timeout: float | None = None,
        signer: LocalAccount | None = None,
        use_index: bool = True,
    ) -> None:
        self.rpc = rpc or None
        self.account = account
        self.password = password
        self._root = root
        self.timeout = timeout
        self._target: Target | None = None
        self._chain: Chain | None = None
        self._deployment: Deployment | None = None
        self._signer: LocalAccount | None = signer
        self._transactor: Transactor | None = None
        self._outbox: Outbox | None = None
        self.use_index = use_index  # read events through the local index when there is one
        self._reader: IndexReader | None = None
        self._reader_checked = False

    # ------------------------------------------------------------------------- where

    @property
    def root(self) -> Path:
        return self._root or data_dir()

    def target(self) -> Target:
        """Which endpoint this session uses, and why (see the module docstring)."""
        if self._target is None:
            from provenance import node

            if self.rpc == EMBEDDED:
                self._target = Target(EMBEDDED, "rpc")
            elif self.rpc:
                recorded = node.recorded(self._root)
                known = None
                if recorded is not None and recorded.url.rstrip("/") == self.rpc.rstrip("/"):
                    known = recorded.chain_identity
                if known is None:
                    from provenance.deploy import find_record_for_rpc

                    record = find_record_for_rpc(self.rpc, self._root)
                    known = record.identity if record is not None else None
                self._target = Target(self.rpc, "rpc", known=known)
            else:
                recorded = node.recorded(self._root)
                if recorded is not None:
                    self._target = Target(
                        recorded.url, "node", node=recorded, known=recorded.chain_identity
                    )
                else:
                    self._target = Target(EMBEDDED, "embedded")
        return self._target

    @property
    def embedded(self) -> bool:
        return self.target().embedded

    def chain(self, *, for_write: bool = False) -> Chain:
        """The connected chain. For a write (`for_write`), an endpoint that does not answer
        gives an offline chain of the identity a local record knows, so the transaction is
        queued; for a read it raises `ChainUnreachable`."""
        if self._chain is not None and (self._chain.reachable or for_write):
            return self._chain
        from provenance.chain import connect

        target = self.target()
        if target.embedded:
            self._chain = connect(EMBEDDED)
            return self._chain
        known = target.known if for_write else None
        try:
            chain = connect(target.url, timeout=self.timeout, offline_identity=known)
        except ChainUnreachable as exc:
            raise self._unreachable(target, exc, for_write) from exc
        self._chain = chain
        return chain

    def _unreachable(
        self, target: Target, cause: ChainUnreachable | None, for_write: bool
    ) -> ChainUnreachable:
        reason = str(cause) if cause is not None else f"cannot reach {target.url}"
        if target.via == "node" and target.node is not None:
            info = target.node
            where = f"the {info.engine} node recorded in {self.root / 'node'} ({info.url})"
            running = info.running
            state = "does not answer" if running else "is not running"
            fix = (
                "wait for it or restart it (`provenance node stop`, `provenance node start`)"
                if running
                else "start it with `provenance node start`"
            )
            tail = (
                "; its chain is not known yet, so nothing can be queued for it"
                if for_write and target.known is None
                else ""
            )
            return ChainUnreachable(f"{where} {state}: {fix} (or pass --rpc URL){tail}")
        if for_write and target.known is None:
            return ChainUnreachable(
                f"{reason}; no local record knows which chain {target.url} is (no deployment "
                "was made through it from this data directory), so nothing was queued"
            )
        return cause or ChainUnreachable(reason)

    @property
    def identity(self) -> ChainIdentity:
        return self.chain().identity

    def next_block_time(self) -> int:
        """The earliest timestamp the next block can carry (see `Chain.next_block_time`)."""
        return self.chain().next_block_time()

    # ------------------------------------------------------------------------- what

    def deployment(self) -> Deployment:
        """The deployment recorded for the chain's identity (its code checked when the chain is
        reachable; trusted from the record while it is down)."""
        if self._deployment is None:
            from provenance.deploy import load_deployment, read_record

            if self.embedded:
                raise ConfigError(
                    "there is no deployment on the embedded chain: it lives only as long as one "
                    "command, so nothing persists between commands; start a node with "
                    "`provenance node start`, run `provenance deploy`, then retry "
                    "(or pass --rpc URL)"
                )
            chain = self._chain or self.chain()
            if chain.reachable:
                self._deployment = load_deployment(chain, self._root)
            else:
                record = read_record(chain.identity, self._root)
                if record is None:
                    raise ChainUnreachable(
                        f"the chain at {chain.rpc} does not answer and no deployment is recorded "
                        f"for {chain.identity.describe()}: nothing was queued; retry when it is "
                        "back"
                    )
                self._deployment = record
        return self._deployment

    def deploy(
        self,
        *,
        admin_delay: int,
        force: bool = False,
        save: bool | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> Deployment:
        """Deploy the contracts with the session's signer, through its transactor."""
        from provenance.deploy import deploy

        chain = self.chain()
        deployment = deploy(
            chain,
            self.signer(),
            admin_delay=admin_delay,
            force=force,
            save=save,
            root=self._root,
            progress=progress,
            transactor=self.transactor(),
        )
        self._deployment = deployment
        return deployment

    # ------------------------------------------------------------------------- reading

    def index_file(self) -> Path | None:
        """The local index of this chain identity and deployment, if one was synced (`provenance
        index sync`); never an index of another chain or deployment."""
        from provenance.verify import find_index_for

        if self.embedded:
            return None
        chain = self._chain or self.chain_for_reading()  # an offline chain is not asked again
        return find_index_for(chain.identity, self.deployment(), self._root)

    def chain_for_reading(self, *, use_index: bool = True) -> Chain:
        """The chain to read from. When it does not answer but a local record knows its identity
        and an index of it was synced (`use_index`), an offline `Chain` of that identity: the
        index answers, as of its tip. Else `ChainUnreachable`."""
        from provenance.chain import Chain

        try:
            return self.chain()
        except ChainUnreachable:
            target = self.target()
            if not use_index or target.known is None:
                raise
            from provenance.deploy import read_record
            from provenance.verify import find_index_for

            record = read_record(target.known, self._root)
            if record is None or find_index_for(target.known, record, self._root) is None:
                raise
            self._chain = Chain.offline(target.url, target.known, timeout=self.timeout)
            return self._chain

    def event_reader(self) -> IndexReader | None:
        """The local index of this chain and deployment, topped up over RPC, for the read-only
        clients' event scans (None: no index, `use_index` off, or its tip left the chain)."""
        if not self._reader_checked:
            self._reader_checked = True
            path = self.index_file() if self.use_index else None
            if path is not None:
                from provenance.index.store import IndexStore
                from provenance.verify.collect import _decoder
                from provenance.verify.source import IndexOffChain, IndexReader

                store = IndexStore(path, create=False, readonly=True)
                try:
                    self._reader = IndexReader(
                        store, self.chain(), _decoder(), confirmations=store.confirmations or 0
                    )
                except IndexOffChain:
                    store.close()
        return self._reader

    def verify(
        self,
        batch_id: str,
        *,
        docs: Sequence[Path] = (),
        names: Mapping[str, str] | None = None,
        use_index: bool = True,
    ) -> Report:
        """`provenance.verify.verify` on the session's chain and deployment, through the local
        index of this chain identity and deployment when one exists (and `use_index`): topped up
        over RPC, or alone, as of its tip, while the chain does not answer. Never writes to the
        index (`provenance index sync` does)."""
        from provenance.verify import verify

        use_index = use_index and self.use_index
        chain = self.chain_for_reading(use_index=use_index)
        deployment = self.deployment()
        index = self.index_file() if use_index else None
        return verify(chain, deployment, batch_id, docs=docs, names=names, index=index)

    # ------------------------------------------------------------------------- who

    def signer(self, *, offline: bool = False) -> LocalAccount:
        """The session's account (keystore name, keystore address or dev:N), unlocked once.

        `offline`: do not connect for a keystore account (dev:N still needs a local chain)."""
        if self._signer is None:
            import os

            from provenance.accounts import Keystore, is_dev_spec, keystore_dir, resolve_account

            spec = self.account or os.environ.get(ACCOUNT_ENV)
            if not spec:
                raise KeystoreError(
                    "no account given: pass --account NAME|ADDRESS|dev:N "
                    f"(or set {ACCOUNT_ENV}); list keystores with `provenance account list`"
                )
            chain = None
            if not (offline and not is_dev_spec(spec)):
                chain = self.chain(for_write=True)
            self._signer = resolve_account(
                spec,
                chain=chain,
                password=self.password,
                keystore=Keystore(keystore_dir(self._root)),
            )
        return self._signer

    @property
    def outbox(self) -> Outbox:
        if self._outbox is None:
            from provenance.outbox import Outbox

            self._outbox = Outbox(self.root / "outbox")
        return self._outbox

    def transactor(self) -> Transactor:
        """The signer's Transactor on the session's chain, journaling to the outbox."""
        if self._transactor is None:
            from provenance.transactions import Transactor

            chain = self.chain(for_write=True)
            self._transactor = Transactor(chain, self.signer(), self.outbox, root=self._root)
        return self._transactor

    @property
    def signed(self) -> list[str]:
        """The transactions signed in this session (journaled before they were sent)."""
        return list(self._transactor.signed) if self._transactor is not None else []

    # ------------------------------------------------------------------------- clients

    def registry(self, *, write: bool = False) -> RegistryClient:
        from provenance.registry import RegistryClient

        chain = self.chain(for_write=write)
        transactor = self.transactor() if write else None
        client = RegistryClient.from_deployment(chain, self.deployment(), transactor)
        if not write:
            client.events_from = self.event_reader()
        return client

    def agreements(self, *, write: bool = False) -> AgreementsClient:
        from provenance.agreements import AgreementsClient

        chain = self.chain(for_write=write)
        transactor = self.transactor() if write else None
        client = AgreementsClient.from_deployment(chain, self.deployment(), transactor)
        if not write:
            client.events_from = self.event_reader()
        return client
