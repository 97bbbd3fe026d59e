"""Print every marked paragraph of the gold fixtures so the marks can be eyeballed.

    .venv/bin/python tests/data/paragraph_gold/check_gold.py [FIXTURE.json ...]

For each paragraph: its start offset, the first and last 40 characters of the source
between this mark and the next, and whether the expected text (``paragraphs``) is that
span with page furniture (``furniture_lines``) removed and white space collapsed. Exits
with status 1 if any mark is off (not at the first character of a line) or any expected
text disagrees with its span.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def words(text: str) -> str:
    """Letters and digits only, so that line-end hyphens and quote styles do not count."""
    return re.sub(r"[^0-9A-Za-z]+", "", text.translate(_QUOTES))


def check(path: Path) -> int:
    rec = json.loads(path.read_text(encoding="utf-8"))
    text, starts, paras = rec["text"], rec["starts"], rec["paragraphs"]
    errors = 0
    print(f"== {path.name}: session {rec['session']}, {rec['country']}, {rec['split']}, {len(starts)} paragraphs")
    if len(starts) != len(paras) or starts != sorted(starts) or starts[0] != 0:
        print("   !! starts and paragraphs do not line up")
        return 1
    furniture = {line.strip() for line in rec.get("furniture_lines", [])}
    for i, (s, e, para) in enumerate(zip(starts, [*starts[1:], len(text)], paras, strict=True)):
        line_start = text.rfind("\n", 0, s) + 1
        span = "\n".join(ln for ln in text[s:e].split("\n") if ln.strip() not in furniture)
        ok_mark = not text[line_start:s].strip() and not text[s].isspace()
        ok_text = words(span) == words(para)
        errors += (not ok_mark) + (not ok_text)
        flag = "" if ok_mark and ok_text else "  !! " + ("mark not at a line start " if not ok_mark else "") + (
            "text differs from span" if not ok_text else "")
        flat = " ".join(span.split())
        print(f"{i:3d} {s:6d}  {flat[:40]!r:44} ... {flat[-40:]!r}{flag}")
    return errors


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted(HERE.glob("*.json"))
    errors = sum(check(p) for p in paths)
    print(f"{len(paths)} fixtures, {errors} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
