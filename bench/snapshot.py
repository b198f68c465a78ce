#!/usr/bin/env python3
"""Snapshot the full analysis of a fixed set of inputs, and compare two snapshots.

    python bench/snapshot.py dump OUT.jsonl
    python bench/snapshot.py compare A.jsonl B.jsonl

The inputs are deterministic: every tests/data/dev/*.txt; each of them with all
line breaks removed, with its first line removed, with a masthead line
prepended, in traditional characters (opencc s2t), truncated at 1/3 and 2/3;
every mutation ``bench/mutate.py`` plants; the three seeds as .docx (built by
``tests/metamorphic.py``'s ``to_docx``).  One JSON line per input: its key and
``Report.to_dict()`` plus the ``why`` evidence (sorted keys; a .docx input's sha256 is left out, as
python-docx stamps the time of saving into the file).  ``compare``
prints each input and top-level field that differs and exits 1 on any
difference (used to keep a speed change's output byte-identical).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

DEV = ROOT / "tests" / "data" / "dev"


def inputs():
    """(key, name, bytes) for every input, in a fixed order."""
    import opencc

    import metamorphic as mm
    import mutate
    from fazhi.pipeline import analyze_text

    s2t = opencc.OpenCC("s2t")
    for f in sorted(DEV.glob("*.txt")):
        text = f.read_text(encoding="utf-8")
        yield f.name, f.name, text.encode("utf-8")
        variants = {
            "nobreaks": text.replace("\r", "").replace("\n", ""),
            "notitle": text.split("\n", 1)[1] if "\n" in text else "",
            "masthead": "某某市人民政府文件\n" + text,
            "traditional": s2t.convert(text),
            "third": text[:len(text) // 3],
            "twothirds": text[:2 * len(text) // 3],
        }
        for k, v in variants.items():
            yield f"{f.name}#{k}", f.name, v.encode("utf-8")
        rep = analyze_text(text, f.name)
        for kind, fn in mutate.MUTATIONS.items():
            for i, (label, mutated, _expect) in enumerate(fn(rep.text, rep)):
                yield f"{f.name}#mut:{kind}:{i}:{label}", f.name, mutated.encode("utf-8")
    for f in sorted(DEV.glob("seed-*.txt")):
        text = f.read_text(encoding="utf-8")
        name = f.stem + ".docx"
        yield f"{name}#docx", name, mm.to_docx(mm.document_lines(text))


def dump(out: str) -> int:
    from fazhi.pipeline import analyze_bytes

    n = 0
    with open(out, "w", encoding="utf-8") as fh:
        for key, name, data in inputs():
            try:
                r = analyze_bytes(data, name)
                d = r.to_dict()
                d["why"] = r.why
                if name.endswith(".docx"):  # python-docx stamps the save time: the bytes vary
                    d["source"]["sha256"] = None
            except Exception as e:  # an error is an output too
                d = {"error": f"{type(e).__name__}: {e}"}
            fh.write(json.dumps({"key": key, "analysis": d}, ensure_ascii=False, sort_keys=True, default=repr) + "\n")
            n += 1
    print(f"{n} inputs written to {out}")
    return 0


def _load(path: str) -> dict:
    out = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            out[rec["key"]] = rec["analysis"]
    return out


def compare(a: str, b: str) -> int:
    A, B = _load(a), _load(b)
    bad = 0
    for k in sorted(set(A) | set(B)):
        if k not in A or k not in B:
            print(f"{k}: only in {'A' if k in A else 'B'}")
            bad += 1
            continue
        x, y = A[k], B[k]
        if x == y:
            continue
        bad += 1
        fields = sorted(f for f in set(x) | set(y) if x.get(f) != y.get(f))
        print(f"{k}: differs in {', '.join(fields)}")
        for f in fields:
            if f in ("text",):
                continue
            print(f"    {f}: A={json.dumps(x.get(f), ensure_ascii=False)[:300]}")
            print(f"    {f}: B={json.dumps(y.get(f), ensure_ascii=False)[:300]}")
    print(f"{len(A)} / {len(B)} inputs, {bad} differing")
    return 1 if bad else 0


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "dump":
        return dump(sys.argv[2])
    if len(sys.argv) == 4 and sys.argv[1] == "compare":
        return compare(sys.argv[2], sys.argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
