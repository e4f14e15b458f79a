"""Assemble seeds/ukraine-war/real/paragraphs.jsonl from the collectors' files and the blind second annotation.

    python tools/build_real_set.py

Keeps only rows whose licence allows keeping the text in this repository (public domain, CC BY, CC BY-ND
verbatim; not NC), drops rows that quote another outlet's words (their licence is that outlet's), takes the
adjudicated labels where the two annotators disagreed, and gives every row a frozen split by a hash of its page's
URL, so passages of one page never sit on both sides (test ≈ 45 %)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parents[1] / "seeds" / "ukraine-war" / "real"
COLLECTED = ["annotation/first-usgov.jsonl", "annotation/first-ccby.jsonl"]
ADJUDICATED = HERE / "annotation" / "adjudicated.jsonl"
TEST_PERCENT = 45
OUTLETS = re.compile(
    r"\b(CNN|Reuters|Bloomberg|Associated Press|AFP|BBC|New York Times|Washington Post|Financial Times|"
    r"Wall Street Journal|Guardian|Kommersant|RBC|Vedomosti|TASS|RIA Novosti|Interfax|Politico|Axios)\b"
)
QUOTES = re.compile(r"[“”\"]")
KEYS = ["id", "text", "frames", "stance", "split", "outlet", "source", "url", "date", "licence"]


def page_split(url: str) -> str:
    bucket = int(hashlib.sha256(url.split("#")[0].rstrip("/").encode()).hexdigest()[:8], 16) % 100
    return "test" if bucket < TEST_PERCENT else "train"


def main() -> int:
    rows = [json.loads(line) for name in COLLECTED for line in (HERE / name).read_text().splitlines() if line.strip()]
    adjudicated = {}
    if ADJUDICATED.is_file():
        adjudicated = {r["id"]: r for r in map(json.loads, ADJUDICATED.read_text().splitlines())}
    kept, dropped = [], {"non-commercial licence": 0, "quotes another outlet": 0}
    for row in rows:
        if "NC" in row["licence"]:
            dropped["non-commercial licence"] += 1
            continue
        if OUTLETS.search(row["text"]) and QUOTES.search(row["text"]):
            dropped["quotes another outlet"] += 1
            continue
        final = adjudicated.get(row["id"], {}).get("final")
        if final:
            row = {**row, "frames": final["frames"], "stance": final["stance"]}
        row["split"] = page_split(row["url"])
        extra = {k: v for k, v in row.items() if k not in KEYS and k != "note"}
        kept.append({**{k: row[k] for k in KEYS if k in row}, **extra})
    out = HERE / "paragraphs.jsonl"
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept), encoding="utf-8")
    test = sum(r["split"] == "test" for r in kept)
    print(f"{len(kept)} rows ({test} test, {len(kept) - test} train) -> {out}; dropped {dropped}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
