from __future__ import annotations

import pytest

# Local servers speaking a provider's protocol (the language engine's fixture), for the LLM provider.
from aftersales.language.tests.conftest import protocol_server  # noqa: F401


@pytest.fixture(scope="session")
def triage_model():  # type: ignore[no-untyped-def]
    """The test settings' small model (TRIAGE_TRAIN_LANGUAGES: en, de, es, zh), trained once into
    var/triage and reused while the corpus is unchanged."""
    from aftersales.triage.artifacts import get_bundle

    return get_bundle()
