"""Benchmark of the language engine: translation quality (chrF) per provider and pair, protection
of order numbers & co. (placeholder preservation), latency and throughput, language detection
accuracy on short messages, OCR character accuracy on rendered screenshots.

    .venv/bin/python bench/language.py                      # print the report
    .venv/bin/python bench/language.py --only translation   # one part (translation, detection, ocr)
    .venv/bin/python bench/language.py --append             # and append it to bench/RESULTS.md

Providers: the embedded Apertium always; an HTTP provider too when its environment variables are
set (BENCH_DEEPL_KEY; BENCH_OPENAI_BASE_URL + BENCH_OPENAI_MODEL [+ BENCH_OPENAI_KEY];
BENCH_LIBRETRANSLATE_URL).

Translation set (bench/data/cs_segments.jsonl, written for this benchmark): 319 customer-service
segments as buyers and agents write them (typos, no accents, slang, emojis, order / tracking / VAT
numbers, amounts, informal and formal register): 79 English ones (buyer messages and agent replies)
with reference translations into es, fr, pt (Brazilian), de, zh, ja, and 40 per language in es, fr,
pt, de, zh, ja with an English reference. Every one of the 12 directions between English and those
six languages is reported; a direction no provider translates says so ("no offline engine").
Portuguese targets are asked for as pt-BR (the references are Brazilian).

Detection and OCR keep their sets: language_parallel.jsonl (40 sentences in 6 languages),
language_detection*.jsonl (88 + 240 messages)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings.test")

import django  # noqa: E402

django.setup()

import sacrebleu  # noqa: E402

from aftersales.language import detect, ocr  # noqa: E402
from aftersales.language.names import MODEL_PATTERN  # noqa: E402
from aftersales.language.protection import Term, check, mask, restore  # noqa: E402
from aftersales.language.providers.apertium import ApertiumProvider  # noqa: E402
from aftersales.language.providers.base import Context, Provider, ProviderError  # noqa: E402
from aftersales.language.routing import hints_of  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
LANGS = ["en", "es", "pt", "fr", "de", "zh"]  # of the detection / OCR set
PARTNERS = ["es", "fr", "pt", "de", "zh", "ja"]
DIRECTIONS = [("en", x) for x in PARTNERS] + [(x, "en") for x in PARTNERS]
VARIANTS = {"pt": "pt-BR"}


def load(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def providers() -> list[Provider]:
    found: list[Provider] = [ApertiumProvider()]
    if key := os.environ.get("BENCH_DEEPL_KEY"):
        from aftersales.language.providers.deepl import DeepLProvider

        found.append(DeepLProvider(credentials={"api_key": key}, base_url=os.environ.get("BENCH_DEEPL_URL", "")))
    if url := os.environ.get("BENCH_OPENAI_BASE_URL"):
        from aftersales.language.providers.openai_compatible import OpenAICompatibleProvider

        found.append(
            OpenAICompatibleProvider(
                base_url=url,
                credentials={"api_key": os.environ.get("BENCH_OPENAI_KEY", "")},
                options={"model": os.environ["BENCH_OPENAI_MODEL"]},
                timeout=120,
            )
        )
    if url := os.environ.get("BENCH_LIBRETRANSLATE_URL"):
        from aftersales.language.providers.libretranslate import LibreTranslateProvider

        found.append(LibreTranslateProvider(base_url=url))
    return found


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _names(text: str) -> list[Term]:
    """What the engine protects as product names without a catalog (the model-code pattern)."""
    return [Term(m.group(0), m.group(0), True, "name") for m in MODEL_PATTERN.finditer(text)]


def bench_translation(segments: list[dict]) -> list[str]:
    out = [
        "| direction | segments | provider | chrF all | chrF buyers | chrF agents | placeholders intact "
        "| values kept (masked) | kept without masking | p50 ms | p95 ms | segments/s (batch) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    engines = providers()
    for src, tgt in DIRECTIONS:
        rows = [r for r in segments if r["source"] == src and tgt in r["refs"]]
        able = [p for p in engines if p.supports(src, tgt)]
        if not able:
            out.append(
                f"| {src}-{tgt} | {len(rows)} | no offline engine (needs a provider: DeepL, Google, Azure "
                "or a self-hosted LLM) | — | — | — | — | — | — | — | — | — |"
            )
            continue
        sources = [r["text"] for r in rows]
        masked = [mask(s, terms=_names(s)) for s in sources]
        context = Context(VARIANTS.get(tgt, ""), tuple(hints_of(m) for m in masked))
        for provider in able:
            try:
                started = time.perf_counter()
                raw = provider.translate_batch([m.text for m in masked], src, tgt, context)
                batch_seconds = time.perf_counter() - started
                plain = provider.translate_batch(sources, src, tgt, Context(VARIANTS.get(tgt, "")))
            except ProviderError as exc:
                out.append(f"| {src}-{tgt} | {len(rows)} | {provider.name} | error: {exc} | | | | | | | | |")
                continue
            hyps = [restore(r, m).text for r, m in zip(raw, masked, strict=True)]
            intact = sum(not check(r, m) for r, m in zip(raw, masked, strict=True))
            total = sum(len(m.entities) for m in masked)
            kept = sum(sum(1 for e in m.entities if e.value in h) for m, h in zip(masked, hyps, strict=True))
            kept_plain = sum(sum(1 for e in m.entities if e.value in p) for m, p in zip(masked, plain, strict=True))
            latencies = []
            for m in masked[:12]:
                t0 = time.perf_counter()
                provider.translate_batch([m.text], src, tgt, context.chunk(0, 0))
                latencies.append((time.perf_counter() - t0) * 1000)

            def chrf(kind: str | None, hyps: list[str] = hyps, rows: list[dict] = rows, tgt: str = tgt) -> str:
                pairs = [(h, r["refs"][tgt]) for h, r in zip(hyps, rows, strict=True) if kind in (None, r["kind"])]
                if not pairs:
                    return "—"
                return f"{sacrebleu.corpus_chrf([h for h, _ in pairs], [[r for _, r in pairs]]).score:.1f}"

            share, share_plain = 100 * kept / max(total, 1), 100 * kept_plain / max(total, 1)
            name = provider.name + (f" ({context.variant})" if context.variant else "")
            out.append(
                f"| {src}-{tgt} | {len(rows)} | {name} | **{chrf(None)}** | {chrf('buyer')} | {chrf('agent')} "
                f"| {intact}/{len(rows)} | {kept}/{total} ({share:.0f}%) | {kept_plain}/{total} ({share_plain:.0f}%) "
                f"| {statistics.median(latencies):.0f} | {pct(latencies, 0.95):.0f} "
                f"| {len(sources) / batch_seconds:.1f} |"
            )
    return out


def _long_enough(text: str) -> bool:
    return not detect.is_short(text) and (
        len(detect._CJK_RE.findall(text)) >= 4 or len(detect._WORD_RE.findall(text)) >= 4
    )


def bench_detection(rows: list[dict]) -> list[str]:
    long_set = [(r["lang"], r["text"]) for r in load("language_detection.jsonl")]
    long_set += [(lang, r[lang]) for r in rows for lang in LANGS]
    long_set = [(lang, text) for lang, text in long_set if _long_enough(text)]
    short_set = [(r["lang"], r["text"]) for r in load("language_detection_short.jsonl")]
    detect.preload_detector()  # as the worker does at startup: timings without model loading
    started = time.perf_counter()
    right = sum(detect.detect_language(text).language == lang for lang, text in long_set)
    per_message = (time.perf_counter() - started) * 1000 / len(long_set)
    wrong = [
        (lang, text, detect.detect_language(text).language)
        for lang, text in long_set
        if detect.detect_language(text).language != lang
    ]
    lingua_short = sum(detect.candidates(text)[0][0] == lang for lang, text in short_set)
    trusted = sum(not detect.is_short(text) for _, text in short_set)
    fallback = sum(detect.detect_language(text, customer_language=lang).language == lang for lang, text in short_set)
    langs = sorted({lang for lang, _ in long_set})
    lines = [
        f"- messages of 4+ words (or 4+ CJK characters), {len(langs)} languages: **{right}/{len(long_set)} = "
        f"{100 * right / len(long_set):.1f}%** ({per_message:.2f} ms per message)",
        f"- shorter messages ({len(short_set)}): lingua alone {lingua_short}/{len(short_set)} = "
        f"{100 * lingua_short / len(short_set):.0f}%; the engine does not trust lingua below 3 words / 4 CJK "
        "characters "
        f"({len(short_set) - trusted} of them) and falls back to the customer's known language, then the store's: "
        f"{fallback}/{len(short_set)} right when the customer's language is known",
    ]
    if wrong:
        lines.append("- misdetected: " + "; ".join(f"{t!r} ({lang} -> {got})" for lang, t, got in wrong[:8]))
    return lines


def _distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _norm(text: str, lang: str) -> str:
    return "".join(text.split()) if lang == "zh" else " ".join(text.split())


def bench_ocr(rows: list[dict]) -> list[str]:
    sys.path.insert(0, str(ROOT / "src" / "aftersales" / "language" / "tests"))
    from rendering import screenshot  # the tests' renderer: Noto Sans CJK SC from fonts-noto-cjk

    lines = []
    for lang in ("zh", "en"):
        sentences = [r[lang] for r in rows]
        errors = chars = 0
        seconds = []
        for start in range(0, len(sentences), 5):
            chunk = sentences[start : start + 5]
            data = screenshot(chunk, size=26)
            t0 = time.perf_counter()
            result = ocr.read_document(data, language_hint=lang)
            seconds.append(time.perf_counter() - t0)
            got = [b.text for b in result.blocks] if result.blocks else result.text.splitlines()

            expected, found = _norm("\n".join(chunk), lang), _norm("\n".join(got), lang)
            errors += _distance(expected, found)
            chars += len(expected)
        lines.append(
            f"- {lang}: character accuracy **{100 * (1 - errors / chars):.1f}%** over {chars} characters "
            f"({len(seconds)} screenshots of 5 lines, {statistics.median(seconds):.2f} s median each, "
            f"engine {result.engine})"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--append", action="store_true", help="append the report to bench/RESULTS.md")
    parser.add_argument("--only", choices=["translation", "detection", "ocr"], help="run one part only")
    args = parser.parse_args()
    rows = load("language_parallel.jsonl")
    segments = load("cs_segments.jsonl")
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    report = [
        "## Language",
        "",
        f"Machine: {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.system()}. "
        f"Command: `.venv/bin/python bench/language.py{' --only ' + args.only if args.only else ''}` "
        f"({time.strftime('%Y-%m-%d')}).",
        "",
    ]
    if args.only in (None, "translation"):
        by_source = {lang: sum(r["source"] == lang for r in segments) for lang in ["en", *PARTNERS]}
        report += [
            f"### Translation ({len(segments)} customer-service segments, bench/data/cs_segments.jsonl)",
            "",
            "Segments written as buyers and agents really write (typos, missing accents, slang, emojis, order, "
            "tracking and VAT numbers, amounts, formal and informal register), references written for this set: "
            + ", ".join(f"{n} in {lang}" for lang, n in by_source.items())
            + ". English segments are translated into the six languages, the others into English. chrF "
            "(sacrebleu, character 6-grams) per direction, and separately for buyers' messages and agents' replies.",
            "",
            *bench_translation(segments),
            "",
            "Placeholders: order numbers, tracking numbers, SKUs, IMEIs, e-mails, URLs, amounts and product names "
            '(model-code pattern) are masked as ⟦n⟧ before MT and restored after. "intact" counts segments '
            'whose every placeholder came back exactly (the engine\'s strict check); "kept" counts entity values '
            "found verbatim in the output, with and without masking.",
            "",
        ]
    if args.only in (None, "detection"):
        report += ["### Language detection (lingua, 17 languages, preloaded)", "", *bench_detection(rows), ""]
    if args.only in (None, "ocr"):
        report += ["### OCR (screenshots rendered with Noto Sans CJK SC)", "", *bench_ocr(rows), ""]
    text = "\n".join(report)
    print(text)
    if args.append:
        path = Path(__file__).resolve().parent / "RESULTS.md"
        existing = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
        path.write_text(existing.rstrip("\n") + "\n\n" + text, encoding="utf-8")


if __name__ == "__main__":
    main()
