"""Replace a generated section of README.md (between `<!-- NAME:begin/end -->` markers)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def replace_section(name: str, body: str, readme: Path = README) -> None:
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    text = readme.read_text()
    if begin not in text or end not in text:
        raise SystemExit(f"{readme} has no {begin} … {end} section")
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    readme.write_text(pattern.sub(lambda _m: f"{begin}\n{body.rstrip()}\n{end}", text))
