"""Triage (issue 11 §3): quality on the held-out split, throughput, worker memory.

1. Macro-F1 per language on the corpus's held-out split (src/aftersales/triage/corpus/heldout: written
   separately from the training and dev splits, never tuned on) for intent, urgency and sentiment, for
   each model alone (char n-grams + logistic regression, USE embeddings + logistic regression, their
   ensemble) and for the shipped pipeline (the model selected per language on the dev split + threat
   rules). Also: threat recall, needs-a-human agreement, and the low-confidence share.
2. Language detection, both paths in the same run: lingua for every message, and the fast path (the
   bundle's language head on the char n-grams answers when sure, lingua the rest): accuracy on the
   held-out split and on the language engine's own sets (bench/data/language_detection*.jsonl, never
   trained or tuned on), and the pipeline's macro-F1 with detected languages.
3. Messages per second in batch on one core (OMP/OPENBLAS/MKL threads = 1), everything included:
   language detection, embeddings, char n-grams, three heads, rules and entities; CPU ms per message.
4. Worker memory: RSS of a fresh process before and after loading the models and classifying.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 .venv/bin/python bench/triage.py [--n 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TRIAGE_ENCODER_THREADS"):
    os.environ.setdefault(variable, "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings.test")

HEADS = ("intent", "urgency", "sentiment")


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def quality() -> dict:
    from sklearn.metrics import f1_score

    from aftersales.triage.artifacts import get_bundle
    from aftersales.triage.classify import combine
    from aftersales.triage.dataset import load_split

    bundle = get_bundle()
    examples = load_split("heldout")
    texts = [e.text for e in examples]
    features = bundle.features(texts)
    languages = [e.language for e in examples]
    pipeline = combine(bundle, texts, languages, features, threshold=bundle.threshold)
    predictions: dict[str, dict[str, list[str]]] = {}
    for head in HEADS:
        probabilities = bundle.probabilities(features, head)
        classes = bundle.classes(head)
        predictions[head] = {k: [classes[i] for i in p.argmax(axis=1)] for k, p in probabilities.items()}
        predictions[head]["pipeline"] = [getattr(o, head) for o in pipeline]

    def f1(head: str, kind: str, rows: list[int]) -> float:
        truth = [getattr(examples[i], head) for i in rows]
        return float(f1_score(truth, [predictions[head][kind][i] for i in rows], average="macro", zero_division=0))

    table = {}
    for language in [*sorted(set(languages)), "all"]:
        rows = [i for i, code in enumerate(languages) if language in ("all", code)]
        table[language] = {
            "n": len(rows),
            **{
                f"{head}:{kind}": round(f1(head, kind, rows), 3)
                for head in HEADS
                for kind in ("charngram", "embedding", "ensemble", "pipeline")
            },
            "selected_intent_model": bundle.kind_for(language, "intent") if language != "all" else "",
        }
    threats = [i for i, e in enumerate(examples) if e.intent == "chargeback_dispute_threat"]
    by_rule = [i for i in threats if any(r.startswith("rule:") for r in pipeline[i].reasons)]
    caught = [i for i in threats if pipeline[i].intent == "chargeback_dispute_threat"]
    false_threats = [
        i for i, o in enumerate(pipeline) if o.intent == "chargeback_dispute_threat" and examples[i].intent != o.intent
    ]
    human_truth = [e.needs_human for e in examples]
    human_rule = [bool({"threat", "abusive"} & set(o.reasons)) for o in pipeline]
    low = [o for o in pipeline if "low_confidence" in o.reasons]
    auto = [(o, e) for o, e in zip(pipeline, examples, strict=True) if "low_confidence" not in o.reasons]
    return {
        "table": table,
        "threats": {
            "n": len(threats),
            "caught": len(caught),
            "by_rule": len(by_rule),
            "false_alarms": len(false_threats),
        },
        "needs_human_agreement": round(
            sum(a == b for a, b in zip(human_truth, human_rule, strict=True)) / len(examples), 3
        ),
        "low_confidence_share": round(len(low) / len(pipeline), 3),
        "auto_precision": round(sum(o.intent == e.intent for o, e in auto) / len(auto), 3) if auto else None,
        "threshold": bundle.threshold,
        "version": bundle.version,
        "report": {k: v for k, v in bundle.report.items() if k != "temperatures"},
    }


def detection() -> dict:
    """Accuracy of both detection paths, and the pipeline's intent macro-F1 with detected languages."""
    from sklearn.metrics import f1_score

    from aftersales.triage.artifacts import get_bundle
    from aftersales.triage.classify import classify_texts, detect_languages

    bundle = get_bundle()
    from aftersales.triage.dataset import load_split

    sets = {"heldout": [(e.language, e.text) for e in load_split("heldout")]}
    for name in ("language_detection.jsonl", "language_detection_short.jsonl"):
        rows = [json.loads(line) for line in (ROOT / "bench/data" / name).read_text().splitlines() if line.strip()]
        sets[name] = [(r["lang"], r["text"]) for r in rows]
    out: dict = {"language_threshold": bundle.language_threshold}
    for name, rows in sets.items():
        texts = [t for _, t in rows]
        truth = [code for code, _ in rows]
        lingua = detect_languages(texts)
        fast = detect_languages(texts, features={"charngram": bundle.vectorizer.transform(texts)})
        out[name] = {
            "n": len(rows),
            "lingua_accuracy": round(sum(a == b for a, b in zip(lingua, truth, strict=True)) / len(rows), 4),
            "fast_accuracy": round(sum(a == b for a, b in zip(fast, truth, strict=True)) / len(rows), 4),
            "fast_differs_from_lingua": sum(a != b for a, b in zip(lingua, fast, strict=True)),
        }

    examples = load_split("heldout")
    texts = [e.text for e in examples]
    truth = [e.intent for e in examples]
    for label, use_head in (("lingua", False), ("fast", True)):
        outputs = classify_texts(texts, fast_detection=use_head)
        out[f"intent_macro_f1_detected_{label}"] = round(
            float(f1_score(truth, [o.intent for o in outputs], average="macro", zero_division=0)), 4
        )
    return out


def throughput(n: int) -> dict:
    from aftersales.triage.classify import classify_texts
    from aftersales.triage.dataset import load_split

    base = [e.text for e in load_split("heldout")] + [e.text for e in load_split("dev")]
    texts = [base[i % len(base)] + ("" if i < len(base) else f" #{i}") for i in range(n)]  # distinct texts
    classify_texts(texts[:50])  # warm: models and lingua loaded
    results = {}
    modes: tuple[tuple[str, list[str] | None, bool], ...] = (
        ("detected: language head + lingua", None, True),
        ("detected: lingua only", None, False),
        ("language given", ["en"] * len(texts), True),
    )
    for label, given, fast in modes:
        started, cpu = time.perf_counter(), time.process_time()
        for start in range(0, n, 100):
            chunk = texts[start : start + 100]
            classify_texts(chunk, languages=given[start : start + 100] if given else None, fast_detection=fast)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        results[label] = {
            "per_wall_second": round(n / elapsed, 1),
            "per_cpu_second": round(n / cpu, 1),
            "cpu_ms_per_message": round(cpu * 1000 / n, 3),
        }
    from aftersales.triage.embeddings import embed

    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, n, 100):
        embed(texts[start : start + 100])
    results["embeddings alone"] = {
        "per_wall_second": round(n / (time.perf_counter() - started), 1),
        "per_cpu_second": round(n / (time.process_time() - cpu), 1),
    }
    return results


def messy(languages: tuple[str, ...] = ("de", "id")) -> dict:
    """Intent macro-F1 of the pipeline per language on the held-out split and on the messy sets
    (bench/data/triage_messy_<language>.jsonl: typos, mixed languages, order numbers, quoted replies;
    written before any training change, never trained or tuned on), with the languages given, and the
    most frequent confusions (truth -> predicted) on both."""
    from collections import Counter

    from sklearn.metrics import f1_score

    from aftersales.triage.classify import classify_texts
    from aftersales.triage.dataset import load_split

    out: dict = {}
    heldout = load_split("heldout", languages=frozenset(languages))
    for language in languages:
        sets = {
            "heldout": [(e.text, e.intent) for e in heldout if e.language == language],
            "messy": [
                (row["text"], row["intent"])
                for line in (ROOT / f"bench/data/triage_messy_{language}.jsonl").read_text().splitlines()
                if line.strip()
                for row in [json.loads(line)]
            ],
        }
        for name, rows in sets.items():
            texts = [t for t, _ in rows]
            truth = [i for _, i in rows]
            predicted = [o.intent for o in classify_texts(texts, languages=[language] * len(texts))]
            confusions = Counter((t, p) for t, p in zip(truth, predicted, strict=True) if t != p)
            out[f"{language}:{name}"] = {
                "n": len(rows),
                "intent_macro_f1": round(float(f1_score(truth, predicted, average="macro", zero_division=0)), 3),
                "accuracy": round(sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(rows), 3),
                "top_confusions": [f"{t}->{p} x{c}" for (t, p), c in confusions.most_common(8)],
            }
    return out


def worker_rss() -> dict:
    code = (
        "import os,sys,json;sys.path.insert(0,'src');"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE','aftersales.settings.test');"
        "import django;django.setup();from django.conf import settings;settings.TRIAGE_TRAIN_LANGUAGES=None;"
        "rss_mib=lambda:[int(l.split()[1])/1024 for l in open('/proc/self/status') if l.startswith('VmRSS:')][0];"
        "before=rss_mib();"
        "from aftersales.triage.classify import classify_texts;"
        "from aftersales.language.detect import preload_detector;preload_detector();lingua=rss_mib();"
        "classify_texts(['Mein Handydisplay kam kaputt an','where is my parcel','退款'])\n"
        "print(json.dumps({'django_only_mib':round(before,1),'with_language_engine_mib':round(lingua,1),"
        "'with_triage_models_mib':round(rss_mib(),1),'triage_adds_mib':round(rss_mib()-lingua,1)}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, env=os.environ
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "diff", "--quiet", "--", "src/aftersales/triage", "bench/triage.py"], cwd=ROOT)
    return out.stdout.strip() + ("+local changes" if dirty.returncode else "")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--messy-only", action="store_true", help="only the de/id held-out + messy-set figures")
    args = parser.parse_args()
    import django

    django.setup()
    from django.conf import settings

    settings.TRIAGE_TRAIN_LANGUAGES = None  # the full model, not the test settings' small one
    m = messy()
    print("Intent macro-F1, pipeline with the language given (de, id): held-out split and the messy sets")
    for key, row in m.items():
        print(f"{key}: n={row['n']} macro-F1 {row['intent_macro_f1']} accuracy {row['accuracy']}")
        print(f"    confusions: {', '.join(row['top_confusions'])}")
    if args.messy_only:
        print(f"load average {os.getloadavg()}, commit {_commit()}")
        return
    q = quality()
    print(f"model {q['version']}, threshold {q['threshold']}, trained: {json.dumps(q['report'])}")
    print("\nHeld-out macro-F1 (intent / urgency / sentiment); pipeline = selected model + rules")
    print(
        "| language | n | intent char | intent USE | intent ens. | **intent pipeline** | urgency char | urgency USE "
        "| urgency pipeline | sentiment char | sentiment USE | sentiment pipeline |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for language, row in q["table"].items():
        print(
            f"| {language} | {row['n']} | {row['intent:charngram']:.3f} | {row['intent:embedding']:.3f} | "
            f"{row['intent:ensemble']:.3f} | **{row['intent:pipeline']:.3f}** | {row['urgency:charngram']:.3f} | "
            f"{row['urgency:embedding']:.3f} | {row['urgency:pipeline']:.3f} | {row['sentiment:charngram']:.3f} | "
            f"{row['sentiment:embedding']:.3f} | {row['sentiment:pipeline']:.3f} |"
        )
    print(
        f"\nthreats: {q['threats']}; needs-a-human agreement (threat/abuse) {q['needs_human_agreement']}; "
        f"low-confidence share {q['low_confidence_share']}; intent precision of the rest {q['auto_precision']}"
    )
    d = detection()
    print(f"\nlanguage detection, lingua vs language head + lingua: {json.dumps(d)}")
    t = throughput(args.n)
    print(f"\nthroughput, {args.n} messages in batches of 100, one core: {t}")
    r = worker_rss()
    print(f"worker RSS: {r}")
    print(
        f"\nmachine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {os.getloadavg()}, commit {_commit()}"
    )


if __name__ == "__main__":
    main()
