from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def triage_model():  # type: ignore[no-untyped-def]
    """The test settings' small model (TRIAGE_TRAIN_LANGUAGES: en, de, es, zh), trained once into
    var/triage and reused while the corpus is unchanged."""
    from aftersales.triage.artifacts import get_bundle

    return get_bundle()
