"""The decisions after the models (triage.decide) with a fake model: a threat beats everything, an
insult keeps the intent but needs a human, low confidence needs a human, a VIP's problem is more
urgent. No trained model is needed here."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from aftersales.triage.decide import Context, combine
from aftersales.triage.labels import Intent
from aftersales.triage.lexicon import scan

INTENTS = tuple(Intent.values)


class FakeModels:
    """Says `intent` with probability `p` (the rest spread evenly), urgency medium, sentiment negative."""

    version = "fake-1"

    def __init__(self, intent: str, p: float) -> None:
        self.intent, self.p = intent, p

    def classes(self, head: str) -> tuple[str, ...]:
        return {
            "intent": INTENTS,
            "urgency": ("high", "low", "medium"),
            "sentiment": ("negative", "neutral", "positive"),
        }[head]

    def kind_for(self, language: str, head: str) -> str:
        return "ensemble"

    def probabilities(self, features: dict[str, Any], head: str) -> dict[str, np.ndarray]:
        n = features["n"]
        classes = self.classes(head)
        target = {"intent": self.intent, "urgency": "medium", "sentiment": "negative"}[head]
        p = self.p if head == "intent" else 0.9
        row = np.full(len(classes), (1 - p) / (len(classes) - 1))
        row[classes.index(target)] = p
        return {"ensemble": np.tile(row, (n, 1))}


def decide(
    text: str, intent: str = "damaged_item", p: float = 0.95, context: Context | None = None, language: str = "en"
):
    [out] = combine(
        FakeModels(intent, p), [text], [language], {"n": 1}, threshold=0.7, contexts=[context] if context else None
    )
    return out


THREATS = [
    ("en", "Tracking says delivered, nothing here. Opening an A-to-z claim now."),
    ("en", "If I don't get a refund by Friday I'm filing a chargeback with my bank."),
    ("de", "Die Vase kam kaputt an. Ich eröffne heute einen PayPal-Konflikt."),
    ("de", "Mein Anwalt wird sich bei Ihnen melden."),
    ("fr", "Écran cassé. J'ouvre un litige PayPal aujourd'hui."),
    ("es", "Llegó roto. Voy a abrir una disputa en PayPal hoy mismo."),
    ("it", "Il mio avvocato vi contatterà."),
    ("pt", "Vou denunciar no Procon e no Reclame Aqui."),
    ("nl", "Ik open vandaag een PayPal-geschil."),
    ("pl", "Zgłaszam was do UOKiK."),
    ("tr", "Sizi tüketici hakem heyetine şikayet ediyorum."),
    ("ru", "Открываю спор на eBay, товар не получен."),
    ("ja", "金曜までに返金されなければチャージバックを申請します。"),
    ("ko", "금요일까지 환불 안 되면 카드사에 차지백 신청할 거예요."),
    ("zh", "不退钱我就找银行拒付。"),
    ("ar", "برفع عليكم قضية."),
    ("th", "จะร้องเรียน สคบ."),
    ("vi", "Luật sư của mình sẽ liên hệ."),
    ("id", "Pengacara saya akan menghubungi."),
]


@pytest.mark.parametrize(("language", "text"), THREATS)
def test_a_threat_beats_everything(language: str, text: str) -> None:
    out = decide(text, intent="damaged_item", p=0.99, language=language)
    assert out.intent == "chargeback_dispute_threat"
    assert out.urgency == "high" and out.needs_human
    assert "threat" in out.reasons and any(r.startswith("rule:") for r in out.reasons)
    assert out.confidence == 1.0


def test_a_threat_the_model_sees_is_urgent_and_human_too() -> None:
    out = decide("you will hear from my people", intent="chargeback_dispute_threat", p=0.9)
    assert out.urgency == "high" and out.needs_human and out.reasons == ("threat",)


@pytest.mark.parametrize(
    "text",
    [
        "I want a refund, nothing arrived",
        "Can I open the box to check the A4 paper?",
        "my lawn mower is late",
        "PayPal payment done",
    ],
)
def test_ordinary_words_are_not_threats(text: str) -> None:
    assert scan(text).threats == ()


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "the TV arrived broken, you idiots"),
        ("de", "Fernseher kaputt geliefert, ihr Vollpfosten"),
        ("es", "llegó roto, vaya mierda"),
        ("zh", "到货就碎了，你们这帮骗子"),
        ("ko", "깨져서 왔어요 사기꾼 새끼들"),
    ],
)
def test_an_insult_keeps_the_intent_but_needs_a_human(language: str, text: str) -> None:
    out = decide(text, intent="damaged_item", p=0.95, language=language)
    assert out.intent == "damaged_item"
    assert out.needs_human and out.reasons == ("abusive",)


def test_low_confidence_needs_a_human_and_keeps_the_suggestion() -> None:
    out = decide("hmm the thing", intent="wrong_item", p=0.4)
    assert out.intent == "wrong_item" and out.needs_human and out.reasons == ("low_confidence",)
    sure = decide("hmm the thing", intent="wrong_item", p=0.95)
    assert not sure.needs_human and sure.reasons == ()


def test_a_vip_problem_is_one_level_more_urgent_but_not_their_thanks() -> None:
    vip = Context(customer_tier="vip", platform="amazon")
    assert decide("screen broken", context=vip).urgency == "high"
    assert decide("screen broken", context=Context(customer_tier="regular")).urgency == "medium"
    assert decide("thank you!", intent="praise_thanks", context=vip).urgency == "medium"


def test_a_safety_hazard_is_urgent() -> None:
    out = decide("the power bank smells like burning", intent="defective_item")
    assert out.urgency == "high"


def test_entities_come_with_the_decision() -> None:
    out = decide("Order 302-1234567-1234567 arrived broken, paid €49,99")
    assert [(e.type, e.value) for e in out.entities] == [("order_number", "302-1234567-1234567"), ("amount", "€49,99")]
