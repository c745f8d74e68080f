"""Issue 13, memory: the language engines load where they are used. A web process imports none of
them at startup; lingua's detector loads its models on demand there (the reply check), the worker
preloads them at startup."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import lingua
import pytest

from aftersales.language import detect, tasks

HEAVY = ("lingua", "numpy", "onnxruntime", "rapidocr_onnxruntime", "pocketsphinx", "cv2", "PIL")


def test_a_web_process_imports_no_language_engine():
    src = Path(__file__).resolve().parents[3]
    code = (
        "import sys, django; django.setup(); import aftersales.urls, aftersales.wsgi; "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(src), "DJANGO_SETTINGS_MODULE": "aftersales.settings.test"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "", f"imported at startup: {out.stdout.strip()}"


@pytest.fixture
def fresh_detector(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(detect, "_detector", None)
    calls: list[str] = []
    real = lingua.LanguageDetectorBuilder.with_preloaded_language_models

    def spy(self):  # type: ignore[no-untyped-def]
        calls.append("preload")
        return real(self)

    monkeypatch.setattr(lingua.LanguageDetectorBuilder, "with_preloaded_language_models", spy)
    return calls


def test_detection_on_demand_loads_no_model_up_front(fresh_detector):
    found = detect.detect_language("Sehr geehrte Damen und Herren, mein Paket ist leider nicht angekommen.")
    assert found.language == "de" and found.source == "detected"
    assert fresh_detector == []


def test_the_worker_preloads_at_startup(fresh_detector):
    tasks.preload_language_models()
    assert fresh_detector == ["preload"]
    assert detect.detector() is detect.preload_detector()  # one detector per process
