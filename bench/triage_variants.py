"""Triage intent: other combinations of the two model families (issue 11 §3, German and Indonesian).

Every variant learns on the corpus's train split and makes its choices (C, temperature, weight) on the
dev split only; it is then measured, never tuned, on the held-out split (all languages) and on the
independent messy sets (bench/data/triage_messy_{de,id}.jsonl). Intent head, model output only (no
rules), with the language given.

Variants:
- char, use, ensemble: the shipped families and their mean (the baseline; what ships per language is
  the ensemble almost everywhere).
- weighted: w * char + (1 - w) * use, w chosen on the dev split (one w for all languages).
- stack: a logistic regression over both families' out-of-fold probabilities on train (5 folds).
- concat: one logistic regression over [char n-gram TF-IDF, s * USE vector] (s chosen on dev).
- word3: the ensemble of three families: char, USE, word uni+bigram TF-IDF + logistic regression.

    OMP_NUM_THREADS=1 .venv/bin/python bench/triage_variants.py
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TRIAGE_ENCODER_THREADS"):
    os.environ.setdefault(variable, "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings.test")


def main() -> None:
    import django

    django.setup()
    import numpy as np
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    from aftersales.triage import embeddings
    from aftersales.triage.classifiers.linear import fit_head, fit_temperature
    from aftersales.triage.dataset import load_split
    from aftersales.triage.training import C_GRID, _vectorizer

    started = time.monotonic()
    train, dev, heldout = (load_split(s) for s in ("train", "dev", "heldout"))
    messy = {
        language: [
            json.loads(line)
            for line in (ROOT / f"bench/data/triage_messy_{language}.jsonl").read_text().splitlines()
            if line.strip()
        ]
        for language in ("de", "id")
    }
    sets = {
        "dev": ([e.text for e in dev], [e.intent for e in dev], [e.language for e in dev]),
        "heldout": ([e.text for e in heldout], [e.intent for e in heldout], [e.language for e in heldout]),
        **{
            f"messy_{lang}": ([r["text"] for r in rows], [r["intent"] for r in rows], [lang] * len(rows))
            for lang, rows in messy.items()
        },
    }
    y = [e.intent for e in train]
    texts = [e.text for e in train]
    char_vec = _vectorizer().fit(texts)
    word_vec = TfidfVectorizer(
        analyzer="word", ngram_range=(1, 2), min_df=1, sublinear_tf=True, lowercase=True, dtype=np.float32
    ).fit(texts)
    feats = {
        "train": {"char": char_vec.transform(texts), "use": embeddings.embed(texts), "word": word_vec.transform(texts)}
    }
    for name, (t, _, _) in sets.items():
        feats[name] = {"char": char_vec.transform(t), "use": embeddings.embed(t), "word": word_vec.transform(t)}
    print(f"features {time.monotonic() - started:.0f} s", flush=True)

    def macro(truth: list[str], pred: list[str]) -> float:
        return float(f1_score(truth, pred, average="macro", zero_division=0))

    def fit_family(kind: str, grid: tuple[float, ...]) -> object:
        best = None
        for c in grid:
            head = fit_head(feats["train"][kind], y, c=c)
            pred = [head.classes[i] for i in head.logits(feats["dev"][kind]).argmax(axis=1)]
            score = macro(sets["dev"][1], pred)
            if best is None or score > best[0]:
                best = (score, head)
        head = best[1]
        head.temperature = fit_temperature(head, feats["dev"][kind], sets["dev"][1])
        return head

    heads = {
        "char": fit_family("char", C_GRID["charngram"]),
        "use": fit_family("use", C_GRID["embedding"]),
        "word": fit_family("word", (4.0, 16.0)),
    }
    classes = heads["char"].classes
    print(f"families {time.monotonic() - started:.0f} s", flush=True)
    proba = {name: {k: h.proba(feats[name][k]) for k, h in heads.items()} for name in sets}

    def pick(p: np.ndarray) -> list[str]:
        return [classes[i] for i in p.argmax(axis=1)]

    # weighted: w on dev
    grid_w = [round(w, 2) for w in np.arange(0.2, 0.81, 0.1)]
    w_best = max(
        grid_w, key=lambda w: macro(sets["dev"][1], pick(w * proba["dev"]["char"] + (1 - w) * proba["dev"]["use"]))
    )

    # stack: out-of-fold probabilities on train
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=20261206)
    oof = np.zeros((len(y), 2 * len(classes)), dtype=np.float32)
    ya = np.array(y)
    for fit_rows, out_rows in folds.split(np.zeros(len(y)), ya):
        for j, (kind, c) in enumerate((("char", 16.0), ("use", 8.0))):
            h = fit_head(feats["train"][kind][fit_rows], list(ya[fit_rows]), c=c)
            h.temperature = heads[kind].temperature
            oof[out_rows, j * len(classes) : (j + 1) * len(classes)] = h.proba(feats["train"][kind][out_rows])
    stacker = fit_family_stack = None
    best = None
    for c in (0.5, 2.0, 8.0):
        s = fit_head(np.log(oof + 1e-4), y, c=c)
        dev_in = np.log(np.hstack([proba["dev"]["char"], proba["dev"]["use"]]) + 1e-4)
        score = macro(sets["dev"][1], [s.classes[i] for i in s.logits(dev_in).argmax(axis=1)])
        if best is None or score > best[0]:
            best = (score, s)
    stacker = best[1]
    del fit_family_stack
    print(f"stack {time.monotonic() - started:.0f} s", flush=True)

    # concat: one model over both feature sets
    best = None
    for scale in (0.5, 1.0, 2.0):
        x = hstack([feats["train"]["char"], csr_matrix(feats["train"]["use"] * scale)]).tocsr()
        h = fit_head(x, y, c=8.0)
        xd = hstack([feats["dev"]["char"], csr_matrix(feats["dev"]["use"] * scale)]).tocsr()
        score = macro(sets["dev"][1], [h.classes[i] for i in h.logits(xd).argmax(axis=1)])
        if best is None or score > best[0]:
            best = (score, scale, h)
    concat_scale, concat = best[1], best[2]
    print(f"concat {time.monotonic() - started:.0f} s (scale {concat_scale}, w {w_best})", flush=True)

    def predictions(name: str) -> dict[str, list[str]]:
        p = proba[name]
        stack_in = np.log(np.hstack([p["char"], p["use"]]) + 1e-4)
        xc = hstack([feats[name]["char"], csr_matrix(feats[name]["use"] * concat_scale)]).tocsr()
        return {
            "char": pick(p["char"]),
            "use": pick(p["use"]),
            "ensemble": pick((p["char"] + p["use"]) / 2),
            "weighted": pick(w_best * p["char"] + (1 - w_best) * p["use"]),
            "stack": [stacker.classes[i] for i in stacker.logits(stack_in).argmax(axis=1)],
            "concat": [concat.classes[i] for i in concat.logits(xc).argmax(axis=1)],
            "word3": pick((p["char"] + p["use"] + p["word"]) / 3),
        }

    report: dict = {"w": w_best, "concat_scale": concat_scale, "sets": {}}
    for name, (_, truth, langs) in sets.items():
        preds = predictions(name)
        per: dict = {}
        for lang in [*sorted(set(langs)), "all"]:
            rows = [i for i, lg in enumerate(langs) if lang == "all" or lg == lang]
            per[lang] = {k: round(macro([truth[i] for i in rows], [v[i] for i in rows]), 3) for k, v in preds.items()}
        report["sets"][name] = per
    out = ROOT / "var" / "triage_variants.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    for name, per in report["sets"].items():
        print(f"\n{name}")
        kinds = list(next(iter(per.values())).keys())
        print("lang " + " ".join(f"{k:>8}" for k in kinds))
        for lang, row in per.items():
            print(f"{lang:4} " + " ".join(f"{row[k]:8.3f}" for k in kinds))
    print(f"\ntotal {time.monotonic() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
