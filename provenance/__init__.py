"""Supply-chain provenance on EVM chains: registry, escrowed supplier agreements, verification."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("provenance")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"
