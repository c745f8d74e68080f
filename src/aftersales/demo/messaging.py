"""The demo's mailbox, WhatsApp and Messenger on loopback (started by `manage.py fakes` with the
marketplaces, `make run`):

- the seeded mailbox "Email (support@gadgets.example)" reads the demo IMAP server and sends its
  replies to the demo SMTP sink (demo/mailbox.py): buyers' e-mails arrive (the IMAP watcher picks
  them up within seconds), a reply is delivered and logged ("mail: delivered ...") and listed on the
  outbox page;
- "WhatsApp (demo)" and "Messenger (demo)" are push-only: their fakes (channels/connectors/
  whatsapp|messenger/fake.py) post correctly signed webhooks (X-Hub-Signature-256 with the store's
  app secret) to the running app, at start and on each tick, and accept the replies (text,
  templates), which are logged ("whatsapp: reply to ...").

`demo --fakes` points the stores at the fakes (`demo_messaging_connect`); the fakes command reads
each store's webhook address from the database to push to it."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from django.db import transaction

from aftersales.accounts.models import Organization
from aftersales.catalog.models import Platform, Store
from aftersales.channels.connectors.messenger.fake import MessengerFake
from aftersales.channels.connectors.whatsapp.fake import WhatsAppFake
from aftersales.channels.models import StoreSync

from . import data
from .mailbox import PORT_OFFSETS, DemoMailServer, Outgoing

MAILBOX_STORE = "Email (support@gadgets.example)"
WHATSAPP_STORE = "WhatsApp (demo)"
MESSENGER_STORE = "Messenger (demo)"
# Ports after the mail server's (demo/mailbox.py PORT_OFFSETS): the Graph API fakes.
CHAT_PORT_OFFSETS = {"whatsapp": 23, "messenger": 24}


@dataclass(frozen=True)
class ChatBuyer:
    name: str
    contact: str  # a WhatsApp number or a Messenger PSID
    language: str
    texts: tuple[str, ...]


WHATSAPP_BUYERS = (
    ChatBuyer(
        "Wei Ming Tan",
        "6591234567",
        "en",
        ("Hi, my earbuds from order 240918 only charge on one side. Can you help?", "Any update on the left earbud?"),
    ),
    ChatBuyer(
        "李美玲", "6598765432", "zh", ("你好，我的充电器收到时外壳破了，可以换一个吗？", "请问什么时候可以寄出新的？")
    ),
    ChatBuyer(
        "Maria Hernandez",
        "5215512345678",
        "es",
        ("Hola, el reloj que compré no enciende. ¿Qué puedo hacer?", "Ya lo cargué toda la noche y sigue igual."),
    ),
)
MESSENGER_BUYERS = (
    ChatBuyer(
        "Maria Santos",
        "7001000000001",
        "en",
        ("Hello! Is the 65W charger compatible with my laptop?", "It is a 2023 model, USB-C."),
    ),
    ChatBuyer(
        "Lukas Becker",
        "7001000000002",
        "de",
        ("Hallo, mein Paket ist seit zwei Wochen unterwegs. Wo ist es?", "Die Sendungsnummer zeigt nichts an."),
    ),
)
MAIL_BUYERS = (
    ("Emily Johnson", "emily.johnson@mail.example", "Order 1043: the case arrived cracked", "en"),
    ("Anna Schmidt", "anna.schmidt@mail.example", "Bestellung 1051: falsche Farbe geliefert", "de"),
    ("Camille Dubois", "camille.dubois@mail.example", "Commande 1060 : remboursement ?", "fr"),
    ("Wei Chen", "wei.chen@mail.example", "订单 1072 还没有收到", "zh"),
)
MAIL_BODIES = {
    "en": "Hello,\n\nthe phone case I received is cracked at the corner. Could you send a new one?\n\nThanks,\nEmily",
    "de": "Hallo,\n\nich habe die Hülle in Schwarz bestellt, geliefert wurde Blau. Bitte tauschen.\n\nGrüße\nAnna",
    "fr": "Bonjour,\n\nj'ai renvoyé l'article la semaine dernière. Quand serai-je remboursée ?\n\nCamille",
    "zh": "您好，\n\n我的订单已经三周了还没有收到，物流也没有更新。请帮忙查一下。\n\n谢谢\n陈伟",
}


def chat_endpoint_urls(port_base: int) -> dict[str, str]:
    return {key: f"http://127.0.0.1:{port_base + offset}" for key, offset in CHAT_PORT_OFFSETS.items()}


def demo_messaging_connect(*, organization: Organization, port_base: int) -> list[Store]:
    """Point the seeded mailbox at the demo mail server and create (or re-point) the WhatsApp and
    Messenger demo stores at their fakes. Idempotent."""
    mail = DemoMailServer()
    mail.ports = {key: port_base + offset for key, offset in PORT_OFFSETS.items()}
    urls = chat_endpoint_urls(port_base)
    stores = []
    with transaction.atomic():
        mailbox = Store.objects.filter(organization=organization, platform=Platform.EMAIL, name=MAILBOX_STORE).first()
        if mailbox is not None:
            mailbox.credentials = mail.credentials()
            mailbox.is_active = True
            mailbox.save()
            stores.append(mailbox)
        for name, platform, credentials in (
            (WHATSAPP_STORE, Platform.WHATSAPP, WhatsAppFake().credentials()),
            (MESSENGER_STORE, Platform.FACEBOOK, MessengerFake().credentials()),
        ):
            store = Store.objects.filter(organization=organization, name=name).first() or Store(
                organization=organization, name=name
            )
            store.platform = platform
            store.site = "whatsapp" if platform == Platform.WHATSAPP else "messenger"
            store.external_id = str(credentials.get("phone_number_id") or credentials.get("page_id"))
            store.default_language = "en"
            store.timezone = "Asia/Singapore"
            store.currency = "SGD"
            store.endpoint_url = urls["whatsapp" if platform == Platform.WHATSAPP else "messenger"]
            store.credentials = credentials  # encrypted at rest
            store.is_active = True
            store.save()
            StoreSync.objects.get_or_create(store=store)
            stores.append(store)
    return stores


def demo_messaging_disconnect(*, organization: Organization) -> int:
    return Store.objects.filter(organization=organization, name__in=[WHATSAPP_STORE, MESSENGER_STORE]).update(
        is_active=False
    )


class DemoMessaging:
    """The demo mail server and the WhatsApp / Messenger fakes, with their buyers' activity."""

    def __init__(self, *, app_url: str = "", log: Callable[[str], None] = print, seed: int = 11) -> None:
        self.app_url = app_url.rstrip("/")
        self.log = log
        self.random = random.Random(seed)  # noqa: S311 (demo content, not secrets)
        self.mail = DemoMailServer(on_mail=self._delivered)
        self.whatsapp = WhatsAppFake()
        self.messenger = MessengerFake()
        self._reported = {"whatsapp": 0, "messenger": 0}
        self._turn = 0
        self._stop = threading.Event()

    def start(self, port_base: int = 0) -> DemoMessaging:
        self.mail.start(port_base)
        urls = chat_endpoint_urls(port_base) if port_base else {}
        for key, fake in (("whatsapp", self.whatsapp), ("messenger", self.messenger)):
            fake.start(int(urls[key].rsplit(":", 1)[1]) if urls else 0)
        threading.Thread(target=self._report_sends, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.mail.stop()
        self.whatsapp.stop()
        self.messenger.stop()

    @property
    def urls(self) -> dict[str, str]:
        return {
            "mail (smtp)": f"smtp://127.0.0.1:{self.mail.ports['smtp']}",
            "mail (imap)": f"imap://127.0.0.1:{self.mail.ports['imap']}",
            "mail outbox": self.mail.outbox_url,
            "whatsapp": self.whatsapp.url,
            "messenger": self.messenger.url,
        }

    # --- activity --------------------------------------------------------------------------------

    def seed(self) -> list[str]:
        """Buyers' first e-mails (kept in the INBOX) and first chat messages (pushed to the app)."""
        done = [self._mail(i, message_id=f"<demo-seed-{i}@mail.example>") for i in range(len(MAIL_BUYERS))]
        # fixed ids: a restarted demo's pushes are duplicates, not second messages
        for i, buyer in enumerate(WHATSAPP_BUYERS):
            done.append(self._whatsapp(buyer, buyer.texts[0], message_id=f"wamid.DEMOSEED{i}"))
        for i, buyer in enumerate(MESSENGER_BUYERS):
            done.append(self._messenger(buyer, buyer.texts[0], message_id=f"m_demo_seed_{i}"))
        return done

    def tick(self) -> list[str]:
        """One new e-mail and one chat message, WhatsApp and Messenger in turn."""
        self._turn += 1
        done = [self._mail(self.random.randrange(len(MAIL_BUYERS)))]
        if self._turn % 2:
            buyer = WHATSAPP_BUYERS[self.random.randrange(len(WHATSAPP_BUYERS))]
            done.append(self._whatsapp(buyer, buyer.texts[self.random.randrange(len(buyer.texts))]))
        else:
            buyer = MESSENGER_BUYERS[self.random.randrange(len(MESSENGER_BUYERS))]
            done.append(self._messenger(buyer, buyer.texts[self.random.randrange(len(buyer.texts))]))
        return done

    def _mail(self, index: int, *, message_id: str = "") -> str:
        name, address, subject, language = MAIL_BUYERS[index]
        self.mail.buyer_mail(
            name=name, address=address, subject=subject, body=MAIL_BODIES[language], message_id=message_id
        )
        return f"mail: {name} <{address}> wrote ({language}) {subject!r}"

    def _whatsapp(self, buyer: ChatBuyer, text: str, *, message_id: str = "") -> str:
        at = time.time()
        push = self.whatsapp.text_push(
            buyer.contact, text, at=at, name=buyer.name, message_id=message_id or self._id("wamid.DEMO")
        )
        body, headers = self.whatsapp.signed(push)
        outcome = self._push(Platform.WHATSAPP, body, headers)
        return f"whatsapp: {buyer.name} (+{buyer.contact}, {buyer.language}) wrote: {outcome}"

    def _messenger(self, buyer: ChatBuyer, text: str, *, message_id: str = "") -> str:
        first, _, last = buyer.name.partition(" ")
        push = self.messenger.message_push(
            buyer.contact, text, at=time.time(), name=(first, last), mid=message_id or self._id("m_demo")
        )
        body, headers = self.messenger.signed(push)
        return f"messenger: {buyer.name} ({buyer.language}) wrote: {self._push(Platform.FACEBOOK, body, headers)}"

    def _id(self, prefix: str) -> str:
        return f"{prefix}{int(time.time() * 1000)}{self.random.randrange(10**6):06d}"

    def _push(self, platform: str, body: bytes, headers: dict[str, str]) -> str:
        """POST a signed push to the demo store's webhook address, as Meta does (retried a few times
        while the app starts)."""
        if not self.app_url:
            return "not pushed (no --app-url)"
        name = WHATSAPP_STORE if platform == Platform.WHATSAPP else MESSENGER_STORE
        token = (
            StoreSync.objects.filter(
                store__name=name, store__platform=platform, store__organization__slug=data.ORG_SLUG
            )
            .values_list("webhook_token", flat=True)
            .first()
        )
        if not token:
            return f"not pushed ({name} is not connected: make run's demo --fakes creates it)"
        url = f"{self.app_url}/hooks/{platform}/{token}"
        error = ""
        for attempt in range(20):
            try:
                status = httpx.post(
                    url, content=body, headers={**headers, "Content-Type": "application/json"}, timeout=30
                )
                return f"pushed ({status.status_code})"
            except httpx.HTTPError as exc:  # the web server is still starting
                error = str(exc)
                if self._stop.wait(min(2.0 * (attempt + 1), 10.0)):
                    break
        return f"not pushed ({error})"

    # --- what reached the fakes --------------------------------------------------------------------

    def _delivered(self, mail: Outgoing) -> None:
        self.log(f"mail: delivered {mail.subject!r} from {mail.sender} to {', '.join(mail.recipients)}")

    def _report_sends(self) -> None:
        while not self._stop.wait(2.0):
            for key, fake in (("whatsapp", self.whatsapp), ("messenger", self.messenger)):
                with fake.lock:
                    sent = list(fake.sent[self._reported[key] :])
                self._reported[key] += len(sent)
                for item in sent:
                    self.log(f"{key}: reply reached the fake: {_summary(item)}")


def _summary(item: dict[str, Any]) -> str:
    body = item
    to = body.get("to") or (body.get("recipient") or {}).get("id") or ""
    kind = body.get("type") or ("message" if "message" in body else "")
    text = (body.get("text") or {}).get("body") or (body.get("message") or {}).get("text") or ""
    if kind == "template":
        text = f"template {(body.get('template') or {}).get('name')}"
    return f"to {to}: {str(text)[:160]!r}"
