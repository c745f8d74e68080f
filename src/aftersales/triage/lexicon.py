"""What rules do better than a model (pure, no model): threats of a chargeback, a payment or
marketplace dispute, a lawyer, a court or a consumer authority, and insults, in the 17 languages of
the language engine. A threat makes the message a `chargeback_dispute_threat` with high urgency and a
human (it beats every other intent); an insult keeps the intent but needs a human. Safety hazards
(burning, smoke, an injury) make a message urgent and human.

Patterns are deliberately specific (a named institution or a verb of disputing): "refund" alone is
not a threat. Each match names the rule that fired, so the reasons shown to the agent are readable."""

from __future__ import annotations

import re
from dataclasses import dataclass

_B = r"(?<![^\W\d_])"  # start of a word (letters only), works for Latin and Cyrillic
_E = r"(?![^\W\d_])"


def _words(*alternatives: str) -> str:
    return _B + "(?:" + "|".join(alternatives) + ")" + _E


# Threats: (rule name, pattern). Latin/Cyrillic entries are matched as words, case-insensitively;
# scripts without spaces are matched as substrings.
_THREATS: list[tuple[str, str]] = [
    (
        "chargeback",
        _words(
            r"charge[\s-]?back",
            r"chargeback",
            r"r[üu]ckbuchung",
            r"lastschrift\w*\s+widersp\w*",
            r"widersprech\w*\s+(?:der|die)\s+lastschrift",
            r"contracargo",
            r"r[ée]trofacturation",
            r"faire\s+opposition",
            r"je\s+fais\s+opposition",
            r"storno\s+con\s+la\s+banca",
            r"lo\s+storno",
            r"terugboeken",
            r"terug\s+laten\s+boeken",
            r"ters\s+ibraz",
            r"чарджб[эе]к",
            r"estorno\s+no\s+cart[ãa]o",
            r"оспорю\s+платёж",
            r"itiraz\s+ederim",
            r"sanggah\s+transaksi",
            r"khiếu\s+nại\s+giao\s+dịch",
            r"dispute\s+the\s+charge",
            r"disputo\s+el\s+cargo",
            r"contesto\s+l'addebito",
            r"contesto\s+a\s+compra",
            r"conteste?r?\s+le\s+paiement",
            r"betwist\w*\s+de\s+betaling",
            r"kwestionuj\w*\s+transakcj\w*",
            r"reversing\s+the\s+payment",
            r"reverse\s+the\s+(?:payment|charge)",
        ),
    ),
    (
        "chargeback",
        r"チャージバック|支払い異議|차지백|결제\s*이의제기|拒付|撤销交易|استرجاع\s+مبلغ|بعترض\s+على\s+العملية|ปฏิเสธ(?:การชำระ|รายการ)",
    ),
    (
        "payment_dispute",
        _words(
            r"paypal[\s-]*(?:dispute|claim|case|konflikt|fall|litige|disputa|contestazione|geschil|spór|spor\w*|anlaşmazlık)",
            r"(?:dispute|litige|disputa|contestazione|geschil|konflikt|spór|спор)\w*\s+(?:on|in|en|sur|su|no|bij|w|в)?\s*paypal",
            r"paypal[’']?(?:da|de)\s+anlaşmazlık",
            r"open\w*\s+a\s+paypal",
            r"спор\s+в\s+paypal",
            r"dispute\s+di\s+paypal",
            r"tranh\s+chấp\s+trên\s+paypal",
        ),
    ),
    ("payment_dispute", r"PayPal\s*(?:で異議|분쟁|开争议|争议)|باي\s*بال|ข้อพิพาทใน\s*PayPal|페이팔\s*분쟁"),
    (
        "marketplace_claim",
        _words(
            r"a[\s-]?to[\s-]?z",
            r"a[\s-]?(?:bis|tot)[\s-]?z",
            r"a[\s-]z[\s-]garantie",
            r"a\s+[àa]\s+z",
            r"de\s+la\s+a\s+a\s+la\s+z",
            r"dalla\s+a\s+alla\s+z",
            r"de\s+a\s+a\s+z",
            r"od\s+a\s+do\s+z",
            r"a[’']?dan\s+z[’']?ye",
            r"от\s+а\s+до\s+я",
            r"ebay[\s-]*(?:case|fall|zaak)",
            r"(?:case|caso|fall|zaak|litige|controversia|sprawę|dava|спор|case)\w*\s+(?:on|in|en|sur|su|no|bij|na|auf|на)?\s*ebay",
            r"ebay[’']?de\s+dava",
            r"ebay\s+case",
            r"trên\s+ebay",
            r"di\s+ebay",
            r"khiếu\s+nại\s+lên\s+(?:shopee|lazada|tiktok)",
        ),
    ),
    (
        "marketplace_claim",
        r"AからZ|A-to-z|A-to-Z|이베이\s*케이스|eBay\s*(?:でケース|开case|开 case)"
        r"|الألف\s+إلى\s+الياء|إيباي|حالة\s+في\s+إيباي|เปิดเคสใน\s*eBay",
    ),
    (
        "lawyer_or_court",
        _words(
            r"lawyer",
            r"attorney",
            r"solicitor",
            r"small\s+claims",
            r"sue\s+you",
            r"take\s+you\s+to\s+court",
            r"anwalt",
            r"verklag\w*",
            r"avocat",
            r"poursuivre\s+en\s+justice",
            r"abogad[oa]",
            r"juicio",
            r"demandar\w*",
            r"avvocat[oa]",
            r"faccio\s+causa",
            r"advogad[oa]",
            r"justiça",
            r"pequenas\s+causas",
            r"advocaat",
            r"rechter",
            r"prawni\w+",
            r"do\s+sądu",
            r"avukat\w*",
            r"mahkeme\w*",
            r"юрист\w*",
            r"адвокат\w*",
            r"в\s+суд",
            r"luật\s+sư",
            r"kiện\s+ra\s+tòa",
            r"khởi\s+kiện",
            r"pengacara",
            r"pengadilan",
            r"tuntut",
        ),
    ),
    ("lawyer_or_court", r"弁護士|訴え|訴訟|변호사|소송|律师|起诉|محامي|قضية|ทนาย|ฟ้อง"),
    (
        "consumer_authority",
        _words(
            r"consumer\s+protection",
            r"bbb",
            r"ftc",
            r"verbraucherzentrale",
            r"dgccrf",
            r"omic",
            r"a\s+consumo",
            r"agcm",
            r"associazion\w+\s+dei\s+consumatori",
            r"procon",
            r"reclame\s+aqui",
            r"acm",
            r"consumentenbond",
            r"uokik",
            r"rzecznik\w*\s+konsument\w*",
            r"t[üu]ketici\s+hakem",
            r"роспотребнадзор",
            r"bpkn",
            r"ylki",
            r"bảo\s+vệ\s+người\s+tiêu\s+dùng",
        ),
    ),
    ("consumer_authority", r"消費者センター|소비자원|12315|消費者庁|حماية\s+المستهلك|وزارة\s+التجارة|สคบ"),
]

_ABUSE: list[str] = [
    _words(
        r"idiots?",
        r"moron\w*",
        r"stupid",
        r"fuck\w*",
        r"shit\w*",
        r"assholes?",
        r"bastards?",
        r"mierda",
        r"gilipollas",
        r"idiot(?:en|in)?",
        r"vollpfosten",
        r"arschl[öo]ch\w*",
        r"schei(?:ß|ss)\w*",
        r"merde",
        r"connards?",
        r"escrocs?",
        r"bande\s+d'incapables",
        r"cazzo",
        r"stronz\w*",
        r"merda",
        r"caralho",
        r"porra",
        r"kut",
        r"klootzak\w*",
        r"debil\w*",
        r"jeban\w*",
        r"kurw\w*",
        r"idiot[óo]w",
        r"şerefsiz\w*",
        r"geri\s+zekal\w*",
        r"aptal\w*",
        r"уроды?",
        r"охренел\w*",
        r"идиот\w*",
        r"сволоч\w*",
        r"mất\s+dạy",
        r"lũ\s+ngu",
        r"goblok",
        r"bego",
        r"anjing",
    ),
    r"詐欺野郎|ふざけんな|バカども|無能のバカ|새끼|멍청이|骗子|废物|垃圾|نصابين|حرامية|أغبياء|เหี้ย|พวกโง่",
]

_SAFETY = [
    _words(
        r"burn(?:ing|t)?\s+smell",
        r"smells?\s+(?:like\s+)?burn\w*",
        r"smok(?:e|ing)",
        r"caught\s+fire",
        r"on\s+fire",
        r"cut\s+(?:him|her)self",
        r"verbrannt",
        r"brûlé",
        r"quemado",
        r"bruciato",
        r"queimado",
        r"verbrand",
        r"spalenizn\w*",
        r"yanık\s+kokuyor",
        r"гарь\w*",
        r"mùi\s+khét",
        r"gosong",
        r"geschnitten",
        r"se\s+couper",
    ),
    r"焦げ臭|타는\s*냄새|焦味|ريحته\s+حريق|กลิ่นไหม้",
]

_THREAT_RES = [(name, re.compile(pattern, re.IGNORECASE)) for name, pattern in _THREATS]
_ABUSE_RES = [re.compile(pattern, re.IGNORECASE) for pattern in _ABUSE]
_SAFETY_RES = [re.compile(pattern, re.IGNORECASE) for pattern in _SAFETY]


@dataclass(frozen=True)
class RuleHits:
    threats: tuple[str, ...]  # names of the threat rules that fired, e.g. ("chargeback",)
    abusive: bool
    safety: bool


def scan(text: str) -> RuleHits:
    threats = tuple(dict.fromkeys(name for name, pattern in _THREAT_RES if pattern.search(text)))
    abusive = any(pattern.search(text) for pattern in _ABUSE_RES)
    safety = any(pattern.search(text) for pattern in _SAFETY_RES)
    return RuleHits(threats=threats, abusive=abusive, safety=safety)
