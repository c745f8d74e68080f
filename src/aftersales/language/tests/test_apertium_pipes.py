"""Apertium pipelines kept running (providers/apertium_pipes.py), against Debian's real Apertium."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from aftersales.language.providers.apertium import MODES_DIR, ApertiumProvider
from aftersales.language.providers.apertium_pipes import (
    PipelinePool,
    deformat,
    encode_texts,
    reformat,
)
from aftersales.language.providers.base import ProviderError

SEGMENTS = Path(__file__).resolve().parents[4] / "bench" / "data" / "cs_segments.jsonl"
MODES = str(MODES_DIR)
SPECIAL = list(" \n\t\r~") * 3 + list("[]\\/@<>^${}") + ["\r\n\r\n", "\n\n", ".[]", "[\\@", "\\\\", "\0"]
PLAIN = [*"abz .,?!:;'\"*#+|", "é", "日本", "\u00a0", "\u3000", "😊", "ß", "\u0645"]


def _buyer_texts() -> list[str]:
    return [json.loads(line)["text"] for line in SEGMENTS.read_text(encoding="utf-8").splitlines() if line]


def _random_strings(seed: int, count: int, alphabet: list[str]) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24))) for _ in range(count)]


def _binary(tool: str, text: str) -> str:
    done = subprocess.run([tool], input=text.encode(), capture_output=True, check=True)
    return done.stdout.decode()


def test_deformat_is_apertium_destxt() -> None:
    """The port writes byte for byte what Debian's apertium-destxt writes, on every buyer text of the
    benchmark set and on random strings made of the characters the txt format treats specially."""
    cases = _buyer_texts() + _random_strings(11, 400, SPECIAL + PLAIN)
    mismatches = [(c, _binary("apertium-destxt", c), deformat(c)) for c in cases]
    mismatches = [m for m in mismatches if m[1] != m[2]]
    assert not mismatches[:3], f"{len(mismatches)} of {len(cases)} differ"


def test_reformat_is_apertium_retxt() -> None:
    """Same for the reformatter, on deformatted texts and on random streams of escapes, superblanks and
    sentence marks (but no "[@file]" large-block references: the binary opens those as files, the port
    never opens a file and the deformatter never writes one)."""
    cases = [deformat(t) for t in _buyer_texts()[:150]]
    cases += [s for s in _random_strings(12, 400, [*"ab .", *"[]\\.", ".[]", "\\\\", "\\[", "\\@"]) if "[@" not in s]
    mismatches = [(c, _binary("apertium-retxt", c), reformat(c)) for c in cases]
    mismatches = [m for m in mismatches if m[1] != m[2]]
    assert not mismatches[:3], f"{len(mismatches)} of {len(cases)} differ"


def test_reformat_never_reads_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not copy me")
    assert "do not copy me" not in reformat(f"a [@{secret}] b")


@pytest.mark.parametrize("mode", ["eng-spa", "spa-eng", "es-fr", "fr-es", "es-pt", "pt-es"])
def test_kept_pipeline_answers_as_a_new_one(mode: str) -> None:
    """A pipeline that translated other requests before answers what a new pipeline answers."""
    kept = PipelinePool(max_kept=1)
    fresh = PipelinePool(max_kept=0)
    rng = random.Random(mode)
    texts = _buyer_texts()
    try:
        for _ in range(25):
            batch = rng.sample(texts, rng.choice([1, 2, 3, 5]))
            stream = encode_texts(batch)
            assert kept.translate(MODES, mode, stream, 20) == fresh.translate(MODES, mode, stream, 20)
        assert kept.started == 1 and fresh.started == 25
    finally:
        kept.close_all()


def test_each_text_is_its_own_sentence() -> None:
    """A text without final punctuation no longer runs into the next one of its batch: before, the batch
    was one document, and 19 of 54 random pairs of buyer texts changed the second one's translation."""
    provider = ApertiumProvider()
    pairs = [
        ("safely. Have a great weekend 😊", "me podeis mandar la etiqueta de devolucion al correo?"),
        ("Chegou com a tela quebrada, quero meu dinheiro de volta", "can i get a partial refund instead?"),
        ("hola buenas", "Me llego el producto roto, la pantalla esta rajada"),
    ]
    for first, second in pairs:
        together = provider.translate_batch([first, second], "es", "en")
        alone = provider.translate_batch([second], "es", "en")
        assert together[1] == alone[0]
    out = provider.translate_batch(["me podeis mandar la etiqueta"], "es", "en")
    assert out[0].startswith("Me "), out  # the first word of a text starts a sentence


def test_provider_output_keeps_lines_tokens_and_empty_texts() -> None:
    provider = ApertiumProvider()
    texts = ["", "Hola ⟦0⟧\n\nGracias", "a\r\nb", "nul\0here", "   ", "[x] {zz} \\ @ ^ $ ~ < >"]
    out = provider.translate_batch(texts, "es", "en")
    assert out[0] == "" and out[4] == ""
    assert out[1].split("\n")[0].endswith("⟦0⟧") and out[1].count("\n") == 2
    assert out[2].count("\n") == 1 and "\0" not in out[3]
    assert "[x]" in out[5] and "{zz}" in out[5] and "@" in out[5]


def test_pool_keeps_at_most_max_kept_and_closes_the_least_recent() -> None:
    pool = PipelinePool(max_kept=2)
    try:
        for mode in ("eng-spa", "es-pt", "eng-spa", "pt-es"):
            pool.translate(MODES, mode, encode_texts(["hola"]), 20)
        kept = pool.kept()
        assert [p.mode for p in kept] == ["eng-spa", "pt-es"] and pool.started == 3
        kept_pids = {p.pid for p in kept}
        assert len(kept_pids) == 2 and all(p.alive() for p in kept)
    finally:
        pool.close_all()
    assert not pool.kept()
    assert all(not p.alive() for p in kept)


def test_idle_pipelines_close_and_restart_after_bounds_a_pipeline_life() -> None:
    pool = PipelinePool(max_kept=2, idle_seconds=60, restart_after=3)
    try:
        for _ in range(3):
            pool.translate(MODES, "es-pt", encode_texts(["hola"]), 20)
        assert pool.kept() == [] and pool.started == 1  # closed after its third call
        pool.translate(MODES, "es-pt", encode_texts(["hola"]), 20)
        (pipeline,) = pool.kept()
        assert pool.close_idle(now=time.monotonic() + 30) == 0
        assert pool.close_idle(now=time.monotonic() + 61) == 1
        pipeline.process.wait(timeout=5)
        assert not pipeline.alive() and pool.kept() == []
    finally:
        pool.close_all()


def test_a_dead_pipeline_is_replaced() -> None:
    pool = PipelinePool(max_kept=1)
    try:
        first = pool.translate(MODES, "spa-eng", encode_texts(["Gracias"]), 20)
        (pipeline,) = pool.kept()
        os.killpg(pipeline.pid, signal.SIGKILL)
        pipeline.process.wait(timeout=5)
        assert pool.translate(MODES, "spa-eng", encode_texts(["Gracias"]), 20) == first
        assert pool.started == 2
    finally:
        pool.close_all()


def _fake_mode(tmp_path: Path, name: str, pipeline: str) -> str:
    modes = tmp_path / "modes"
    modes.mkdir(exist_ok=True)
    (modes / f"{name}.mode").write_text(pipeline + "\n")
    return str(modes)


def test_a_stage_that_never_answers_times_out_and_is_killed(tmp_path: Path) -> None:
    # apertium-wblank-mode -z adds -z to every stage: `sort -z` waits for the end of its input forever.
    modes = _fake_mode(tmp_path, "xx-yy", "sort")
    pool = PipelinePool(max_kept=1)
    started = time.monotonic()
    with pytest.raises(ProviderError) as failure:
        pool.translate(modes, "xx-yy", encode_texts(["hola"]), 0.5)
    assert failure.value.kind == "timeout" and time.monotonic() - started < 5
    assert pool.kept() == []


def test_a_broken_stage_reports_its_error(tmp_path: Path) -> None:
    modes = _fake_mode(tmp_path, "xx-zz", "cat")  # becomes `cat -z`: an invalid option
    pool = PipelinePool(max_kept=1)
    with pytest.raises(ProviderError) as failure:
        pool.translate(modes, "xx-zz", encode_texts(["hola"]), 10)
    assert failure.value.kind == "unavailable" and "cat" in str(failure.value)
    assert pool.kept() == []


def test_a_stage_that_stops_reading_reports_its_error(tmp_path: Path) -> None:
    # `head -z -c 1` reads one byte and exits: writing a large request then fails with a broken pipe.
    modes = _fake_mode(tmp_path, "xx-ww", "head -c 1")
    pool = PipelinePool(max_kept=1)
    with pytest.raises(ProviderError) as failure:
        pool.translate(modes, "xx-ww", encode_texts(["hola " * 400_000]), 10)
    assert failure.value.kind == "unavailable" and "xx-ww" in str(failure.value)
    assert pool.kept() == []


def test_a_forked_child_does_not_use_the_parents_pipelines() -> None:
    from aftersales.language.providers import apertium_pipes

    pool = apertium_pipes.POOL
    previous = pool.max_kept
    pool.configure(max_kept=1)
    try:
        pool.translate(MODES, "es-pt", encode_texts(["hola"]), 20)
        read, write = os.pipe()
        child = os.fork()
        if child == 0:  # pragma: no cover - runs in the child
            os.write(write, str(len(pool.kept())).encode())
            os._exit(0)
        os.waitpid(child, 0)
        assert os.read(read, 10) == b"0"
        (pipeline,) = pool.kept()
        assert pipeline.alive()
    finally:
        pool.configure(max_kept=previous)
        pool.close_all()


def test_without_apertium_the_provider_is_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    pool = PipelinePool(max_kept=0)
    with pytest.raises(ProviderError) as failure:
        pool.translate(MODES, "es-pt", encode_texts(["hola"]), 5)
    assert failure.value.permanent and failure.value.kind == "unavailable"
