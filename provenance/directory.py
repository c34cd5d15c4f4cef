"""The participant directory an operator publishes: names that a reader can check against the chain.

The registry stores no names, only each participant's `metadataHash` (set by the operator at
registration or update). The directory is a JSON file the operator publishes next to the
resolver::

    {"participants": [{"address": "0x7099…79C8", "name": "Green Valley Farm"}, …]}

An entry may carry more string fields (``gln``, ``url``, ``country``…). Its hash is the keccak256
of its canonical JSON (keys sorted, no spaces, UTF-8); the operator registers the participant
with that hash as its metadata (`provenance participant register … --metadata 0x<hash>`). A reader
shows an entry's name only where the participant's on-chain metadata hash equals the entry's
hash, so a name cannot be forged by editing the file: a changed entry no longer matches.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from provenance.encoding import Hex32, keccak_hex, validate_address
from provenance.exceptions import ConfigError, InvalidInput

MAX_NAME_LENGTH = 80


@dataclass(frozen=True)
class DirectoryEntry:
    """One participant as the operator publishes it."""

    address: str
    name: str
    extra: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", validate_address(self.address, "participant"))
        name = self.name.strip() if isinstance(self.name, str) else ""
        if not name or len(name) > MAX_NAME_LENGTH or any(ord(ch) < 32 for ch in name):
            raise InvalidInput(
                f"invalid directory name {self.name!r} for {self.address}: 1–{MAX_NAME_LENGTH} "
                "printable characters"
            )
        object.__setattr__(self, "name", name)
        for key, value in self.extra.items():
            if key in ("address", "name") or not isinstance(value, str):
                raise InvalidInput(
                    f"invalid directory field {key!r} for {self.address}: extra fields are "
                    "strings other than address and name"
                )

    def canonical(self) -> bytes:
        """The bytes that are hashed: the entry as JSON, keys sorted, no spaces, UTF-8."""
        data = {**self.extra, "address": self.address, "name": self.name}
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    @property
    def metadata_hash(self) -> Hex32:
        """What the participant's on-chain `metadataHash` must be for this name to show."""
        return keccak_hex(self.canonical())

    def to_json(self) -> dict[str, str]:
        return {"address": self.address, "name": self.name, **self.extra}


@dataclass(frozen=True)
class Directory:
    """A published participant directory (possibly empty)."""

    entries: tuple[DirectoryEntry, ...] = ()

    @classmethod
    def of(cls, names: Mapping[str, str]) -> Directory:
        """A directory with one entry per address → name."""
        return cls(tuple(DirectoryEntry(address, name) for address, name in names.items()))

    @classmethod
    def parse(cls, data: object, source: str = "directory") -> Directory:
        participants = data.get("participants") if isinstance(data, Mapping) else None
        if not isinstance(participants, list):
            raise ConfigError(
                f'{source}: expected {{"participants": [{{"address": "0x…", "name": "…"}}, …]}}'
            )
        entries = []
        for item in participants:
            if not isinstance(item, Mapping) or "address" not in item or "name" not in item:
                raise ConfigError(f"{source}: every participant needs an address and a name")
            extra = {str(k): v for k, v in item.items() if k not in ("address", "name")}
            try:
                entries.append(DirectoryEntry(str(item["address"]), str(item["name"]), extra))
            except InvalidInput as exc:
                raise ConfigError(f"{source}: {exc}") from exc
        return cls(tuple(entries))

    @classmethod
    def load(cls, path: Path) -> Directory:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read directory {path}: {exc.strerror or exc}") from exc
        except ValueError as exc:
            raise ConfigError(f"directory {path} is not JSON: {exc}") from exc
        return cls.parse(data, str(path))

    def to_json(self) -> dict[str, object]:
        return {"participants": [entry.to_json() for entry in self.entries]}

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n", "utf-8")

    def entry(self, address: str) -> DirectoryEntry | None:
        wanted = address.lower()
        return next((e for e in self.entries if e.address.lower() == wanted), None)

    def verified_names(self, metadata: Iterable[tuple[str, str | None]]) -> dict[str, str]:
        """Address → name for the (address, on-chain metadata hash) pairs whose hash matches the
        directory entry of that address; others get no name."""
        names = {}
        for address, digest in metadata:
            entry = self.entry(address)
            if entry is not None and digest and entry.metadata_hash == digest.lower():
                names[entry.address] = entry.name
        return names


__all__ = ["Directory", "DirectoryEntry"]
