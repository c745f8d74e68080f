"""Where the trained models live and how a process gets them.

Artifacts are built from the versioned corpus, not committed (docs/adr/0017-triage-models.md): the
first process that needs a model version trains it (about a minute on one core) and writes
`<TRIAGE_MODEL_DIR>/<version>.joblib` atomically; every later process loads that file (~1 s).
`manage.py triage_train` builds it ahead of time (the deploy does, so the worker starts warm).
Nothing is downloaded. The file is written by this code from the repository's corpus only, so
unpickling it is as trusted as importing the code."""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from pathlib import Path

import joblib
from django.conf import settings

from .training import Bundle, model_version, train

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_bundle: Bundle | None = None
_builder: threading.Thread | None = None
_builder_lock = threading.Lock()  # not _lock: the builder holds that one while it trains


def model_dir() -> Path:
    configured = getattr(settings, "TRIAGE_MODEL_DIR", None)
    return Path(configured) if configured else Path(settings.VAR_DIR) / "triage"


def artifact_path(version: str) -> Path:
    return model_dir() / f"{version}.joblib"


def save(bundle: Bundle) -> Path:
    path = artifact_path(bundle.version)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    joblib.dump(bundle, tmp, compress=3)
    os.replace(tmp, path)
    return path


def train_languages() -> frozenset[str] | None:
    """TRIAGE_TRAIN_LANGUAGES restricts the corpus (the test settings train a small model); None: all."""
    configured = getattr(settings, "TRIAGE_TRAIN_LANGUAGES", None)
    return frozenset(configured) if configured else None


def build(*, force: bool = False) -> tuple[Bundle, Path, bool]:
    """Train (unless the current version is already built) and save. Returns (bundle, path, trained)."""
    languages = train_languages()
    path = artifact_path(model_version(languages))
    if path.exists() and not force:
        return joblib.load(path), path, False
    bundle = train(languages=languages)
    return bundle, save(bundle), True


def get_bundle() -> Bundle:
    """The process's model: loaded from disk, or trained and saved on first use."""
    global _bundle
    if _bundle is None:
        with _lock:
            if _bundle is None:
                _bundle, path, trained = build()
                logger.info(
                    "triage model ready", extra={"version": _bundle.version, "trained": trained, "path": str(path)}
                )
    return _bundle


def preload() -> threading.Thread | None:
    """Load the built model now; if this version was never built, train it in a background thread and
    return that thread. The worker calls this at startup (from every worker thread): training takes
    minutes, and waiting for it there kept every thread, hence every job (reply deliveries, SLA clocks),
    waiting on the lock. Only jobs that classify wait for the training (they call get_bundle)."""
    global _builder
    if _bundle is not None:
        return None
    if artifact_path(model_version(train_languages())).exists():
        get_bundle()
        return None
    with _builder_lock:
        if _bundle is None and _builder is None:
            logger.warning("triage model not built (manage.py triage_train builds it ahead): training it now")
            _builder = threading.Thread(target=get_bundle, name="triage-train", daemon=True)
            _builder.start()
        return _builder


def set_bundle(bundle: Bundle | None) -> None:
    """Use this bundle in this process (tests with a small model; None forgets it)."""
    global _bundle, _builder
    _bundle = bundle
    _builder = None


def is_loaded() -> bool:
    return _bundle is not None
