"""The static facts of the demo seller: stores, teams, people, products, buyer countries, carriers.

Plain data, no database access: `world.py` turns it into rows, `generator.py` draws from it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

ORG_NAME = "Shenzhen Gadgets Co."
ORG_SLUG = "shenzhen-gadgets"
DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 (documented demo password, printed by `make run`)
# Thresholds in the organization's default currency (USD): about CNY 1,000 and CNY 300.
HIGH_VALUE_USD = Decimal("150")
MID_VALUE_USD = Decimal("40")
APPROVER_LIMIT_USD = Decimal("200")


@dataclass(frozen=True)
class StoreSpec:
    key: str
    name: str
    platform: str
    site: str
    language: str
    timezone: str
    currency: str
    carriers: tuple[str, ...]
    seller_id: str


STORES: tuple[StoreSpec, ...] = (
    StoreSpec(
        "amazon_us",
        "Amazon US",
        "amazon",
        "amazon.com",
        "en",
        "America/Los_Angeles",
        "USD",
        ("UPS", "USPS", "Yun Express"),
        "A2SZGADGETSUS",
    ),
    StoreSpec(
        "amazon_de",
        "Amazon DE",
        "amazon",
        "amazon.de",
        "de",
        "Europe/Berlin",
        "EUR",
        ("DHL", "DPD", "Yun Express"),
        "A2SZGADGETSEU",
    ),
    StoreSpec(
        "ebay_us",
        "eBay US",
        "ebay",
        "ebay.com",
        "en",
        "America/New_York",
        "USD",
        ("Yanwen", "4PX", "USPS"),
        "szgadgets_us",
    ),
    StoreSpec(
        "ebay_uk",
        "eBay UK",
        "ebay",
        "ebay.co.uk",
        "en",
        "Europe/London",
        "GBP",
        ("Yanwen", "4PX", "Royal Mail"),
        "szgadgets_uk",
    ),
    StoreSpec(
        "shopee_sg",
        "Shopee SG",
        "shopee",
        "shopee.sg",
        "en",
        "Asia/Singapore",
        "SGD",
        ("J&T Express", "Ninja Van"),
        "882104455",
    ),
    StoreSpec(
        "shopee_br",
        "Shopee BR",
        "shopee",
        "shopee.com.br",
        "pt",
        "America/Sao_Paulo",
        "BRL",
        ("Correios", "J&T Express"),
        "1033870021",
    ),
    StoreSpec(
        "aliexpress",
        "AliExpress",
        "aliexpress",
        "aliexpress.com",
        "en",
        "Asia/Shanghai",
        "USD",
        ("Cainiao", "4PX", "Yanwen"),
        "2671034",
    ),
    StoreSpec(
        "tiktok",
        "TikTok Shop US",
        "tiktok",
        "shop.tiktok.com/us",
        "en",
        "America/Los_Angeles",
        "USD",
        ("USPS", "Yun Express"),
        "7494561239087",
    ),
    StoreSpec(
        "shopify",
        "Shopify (gadgets.example)",
        "shopify",
        "gadgets.example",
        "en",
        "Asia/Shanghai",
        "USD",
        ("DHL", "UPS", "4PX"),
        "szgadgets.myshopify.com",
    ),
    StoreSpec(
        "email",
        "Email (support@gadgets.example)",
        "email",
        "support@gadgets.example",
        "en",
        "Asia/Shanghai",
        "USD",
        ("DHL",),
        "support@gadgets.example",
    ),
)

# Units of store currency per USD (fixed demo rates).
FX: dict[str, Decimal] = {
    "USD": Decimal("1"),
    "EUR": Decimal("0.92"),
    "GBP": Decimal("0.79"),
    "SGD": Decimal("1.34"),
    "BRL": Decimal("5.45"),
}

THREE_C = ("phones", "computers", "consumer_electronics", "electronic_accessories")


@dataclass(frozen=True)
class TeamSpec:
    name: str
    stores: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    sku_categories: tuple[str, ...] = ()


TEAMS: tuple[TeamSpec, ...] = (
    TeamSpec("Amazon US team", stores=("amazon_us",)),
    TeamSpec("Amazon EU team", stores=("amazon_de",), languages=("de", "fr", "es", "it")),
    TeamSpec("eBay team", platforms=("ebay",)),
    TeamSpec("Shopee team", platforms=("shopee",)),
    TeamSpec("AliExpress & TikTok team", platforms=("aliexpress", "tiktok")),
    TeamSpec("Email & Shopify", platforms=("email", "shopify")),
    TeamSpec("Asia languages", languages=("ja", "ko", "zh")),
    TeamSpec("3C warranty desk", sku_categories=THREE_C),
)


@dataclass(frozen=True)
class UserSpec:
    username: str
    display_name: str
    role: str
    language: str
    teams: tuple[str, ...]


USERS: tuple[UserSpec, ...] = (
    UserSpec("admin", "Chen Hao", "admin", "en", ()),
    UserSpec("li.na", "Li Na", "agent", "zh-hans", ("Shopee team", "AliExpress & TikTok team")),
    UserSpec("tom", "Tom Baker", "agent", "en", ("Amazon US team", "Email & Shopify")),
    UserSpec("wang.fang", "Wang Fang", "approver", "zh-hans", ("Amazon EU team", "3C warranty desk")),
    UserSpec("viewer", "Demo Viewer", "viewer", "en", ("Amazon US team",)),
    UserSpec("zhang.wei", "Zhang Wei", "agent", "zh-hans", ("Amazon US team",)),
    UserSpec("chen.jing", "Chen Jing", "agent", "zh-hans", ("Amazon EU team",)),
    UserSpec("maria.garcia", "María García", "agent", "en", ("Amazon EU team",)),
    UserSpec("liu.yang", "Liu Yang", "agent", "zh-hans", ("eBay team",)),
    UserSpec("huang.min", "Huang Min", "agent", "zh-hans", ("Shopee team",)),
    UserSpec("zhao.lei", "Zhao Lei", "agent", "zh-hans", ("AliExpress & TikTok team",)),
    UserSpec("yuki.tanaka", "Yuki Tanaka", "agent", "en", ("Asia languages", "Email & Shopify")),
    UserSpec("sun.li", "Sun Li", "agent", "zh-hans", ("3C warranty desk",)),
)


@dataclass(frozen=True)
class ProductSpec:
    sku: str
    title: str
    category: str
    price_usd: Decimal
    warranty_months: int
    serialised: bool = False


def _p(sku: str, title: str, category: str, price: str, warranty: int = 12, serialised: bool = False) -> ProductSpec:
    return ProductSpec(sku, title, category, Decimal(price), warranty, serialised)


PRODUCTS: tuple[ProductSpec, ...] = (
    _p("SZG-PH-X5-128-BLK", 'SZG X5 Smartphone 6.5" 128GB Black', "phones", "229.00", 24, True),
    _p("SZG-PH-X5-256-BLU", 'SZG X5 Smartphone 6.5" 256GB Blue', "phones", "279.00", 24, True),
    _p("SZG-PH-A2-64-GRN", "SZG A2 Rugged Phone 64GB", "phones", "159.00", 24, True),
    _p("SZG-TB-P10-64", 'SZG Pad 10 Tablet 10.1" 64GB', "computers", "139.00", 24, True),
    _p("SZG-NB-M14-512", "SZG MiniBook 14 Laptop 512GB SSD", "computers", "389.00", 24, True),
    _p("SZG-EB-PRO2-WHT", "SZG AirBuds Pro 2 ANC Wireless Earbuds White", "consumer_electronics", "49.99", 12),
    _p("SZG-EB-PRO2-BLK", "SZG AirBuds Pro 2 ANC Wireless Earbuds Black", "consumer_electronics", "49.99", 12),
    _p("SZG-EB-LITE-BLK", "SZG AirBuds Lite Bluetooth 5.3 Earbuds", "consumer_electronics", "19.99", 12),
    _p("SZG-HP-OV1-GRY", "SZG Over-Ear Headphones OV1", "consumer_electronics", "59.00", 12),
    _p("SZG-SW-FIT3-BLK", "SZG Fit 3 Smartwatch AMOLED", "consumer_electronics", "69.99", 12, True),
    _p("SZG-SW-KID-PNK", "SZG Kids GPS Smartwatch 4G Pink", "consumer_electronics", "54.99", 12, True),
    _p("SZG-SPK-BOOM-BLU", "SZG Boom Portable Bluetooth Speaker", "consumer_electronics", "35.99", 12),
    _p("SZG-CAM-DASH-4K", "SZG 4K Dash Cam with GPS", "consumer_electronics", "89.00", 12, True),
    _p("SZG-PRJ-MINI-1080", "SZG Mini Projector 1080p", "consumer_electronics", "169.00", 12, True),
    _p("SZG-CH-65W-GAN", "SZG 65W GaN USB-C Charger", "electronic_accessories", "29.99", 18),
    _p("SZG-CH-20W-USBC", "SZG 20W USB-C Fast Charger", "electronic_accessories", "12.99", 18),
    _p("SZG-PB-20K-BLK", "SZG 20000mAh Power Bank PD", "electronic_accessories", "32.99", 18),
    _p("SZG-CB-USBC-2M", "SZG Braided USB-C Cable 2m (2-pack)", "electronic_accessories", "9.99", 6),
    _p("SZG-WC-15W-PAD", "SZG 15W Wireless Charging Pad", "electronic_accessories", "17.99", 12),
    _p("SZG-CS-X5-CLR", "SZG X5 Clear Phone Case", "electronic_accessories", "7.99", 3),
    _p("SZG-HUB-7IN1", "SZG 7-in-1 USB-C Hub HDMI 4K", "electronic_accessories", "34.99", 12),
    _p("SZG-KB-MECH-RGB", "SZG Mechanical Keyboard RGB", "electronic_accessories", "45.99", 12),
    _p("SZG-AP-HD-BLK-M", "Fleece Hoodie Black", "apparel", "24.99", 0),
    _p("SZG-AP-JK-RAIN", "Lightweight Rain Jacket", "apparel", "39.99", 0),
    _p("SZG-AP-LEG-YOGA", "High-Waist Yoga Leggings", "apparel", "19.99", 0),
    _p("SZG-AP-TS-3PK", "Cotton T-Shirt 3-Pack", "apparel", "21.99", 0),
    _p("SZG-SH-RUN-AIR", "AirFlow Running Shoes", "shoes", "44.99", 0),
    _p("SZG-SH-SNK-WHT", "Classic White Sneakers", "shoes", "36.99", 0),
    _p("SZG-SH-HIKE-WP", "Waterproof Hiking Boots", "shoes", "64.99", 6),
    _p("SZG-HM-LED-STRIP", "Smart LED Strip 10m Wi-Fi", "home", "22.99", 12),
    _p("SZG-HM-VAC-R1", "R1 Robot Vacuum Cleaner", "home", "179.00", 12, True),
    _p("SZG-HM-AF-5L", "5L Air Fryer Digital", "home", "69.00", 12),
    _p("SZG-HM-HUM-300", "Ultrasonic Humidifier 3L", "home", "27.99", 12),
    _p("SZG-BT-HD-IONIC", "Ionic Hair Dryer 1800W", "beauty", "34.99", 12),
    _p("SZG-BT-TRIM-PRO", "Pro Beard Trimmer", "beauty", "25.99", 12),
    _p("SZG-TY-DRN-MINI", "Mini Drone with HD Camera", "toys", "59.99", 6, True),
    _p("SZG-TY-RC-CAR", "RC Off-Road Car 1:16", "toys", "32.99", 6),
    _p("SZG-SP-BTL-1L", "Insulated Sports Bottle 1L", "sports", "14.99", 0),
    _p("SZG-SP-BAND-SET", "Resistance Bands Set", "sports", "16.99", 0),
    _p("SZG-OT-GIFT-50", "Gift Card Bundle", "other", "10.00", 0),
)

APPAREL_SIZES = ("XS", "S", "M", "L", "XL", "XXL")
SHOE_SIZES = ("37", "38", "39", "40", "41", "42", "43", "44", "45", "46")


@dataclass(frozen=True)
class CountrySpec:
    code: str
    weight: int
    languages: tuple[tuple[str, int], ...]  # (language, weight)
    stores: tuple[tuple[str, int], ...]  # (store key, weight)
    given: tuple[str, ...]
    family: tuple[str, ...]
    cities: tuple[str, ...]
    name_order: str = "given_family"  # or "family_given" (no space for zh/ko)
    latin: tuple[tuple[str, ...], tuple[str, ...]] | None = None  # romanised given, family for e-mails


COUNTRIES: tuple[CountrySpec, ...] = (
    CountrySpec(
        "US",
        20,
        (("en", 1),),
        (("amazon_us", 8), ("ebay_us", 2), ("tiktok", 3), ("shopify", 2), ("email", 1)),
        (
            "James",
            "Emily",
            "Michael",
            "Olivia",
            "David",
            "Ashley",
            "Chris",
            "Jessica",
            "Tyler",
            "Megan",
            "Brandon",
            "Sarah",
        ),
        (
            "Smith",
            "Johnson",
            "Williams",
            "Brown",
            "Miller",
            "Davis",
            "Wilson",
            "Anderson",
            "Taylor",
            "Moore",
            "Jackson",
            "Martin",
        ),
        ("Los Angeles, CA", "Houston, TX", "Chicago, IL", "Phoenix, AZ", "Columbus, OH"),
    ),
    CountrySpec(
        "GB",
        6,
        (("en", 1),),
        (("ebay_uk", 5), ("shopify", 2), ("email", 1)),
        ("Oliver", "Amelia", "Harry", "Isla", "George", "Ava", "Jack", "Poppy", "Charlie", "Sophie"),
        ("Jones", "Evans", "Thomas", "Roberts", "Walker", "Wright", "Hughes", "Edwards", "Green", "Hall"),
        ("Manchester", "Birmingham", "Leeds", "Bristol", "Glasgow"),
    ),
    CountrySpec(
        "CA",
        3,
        (("en", 3), ("fr", 1)),
        (("amazon_us", 2), ("shopify", 1), ("ebay_us", 1)),
        ("Liam", "Emma", "Noah", "Chloé", "Lucas", "Charlotte", "Félix", "Maya"),
        ("Tremblay", "Roy", "Gagnon", "MacDonald", "Campbell", "Lee", "Côté", "Stewart"),
        ("Toronto, ON", "Montréal, QC", "Vancouver, BC"),
    ),
    CountrySpec(
        "DE",
        10,
        (("de", 1),),
        (("amazon_de", 7), ("aliexpress", 2), ("shopify", 1)),
        (
            "Lukas",
            "Anna",
            "Jonas",
            "Lea",
            "Felix",
            "Hannah",
            "Maximilian",
            "Sophie",
            "Paul",
            "Marie",
            "Jürgen",
            "Sabine",
        ),
        (
            "Müller",
            "Schmidt",
            "Schneider",
            "Fischer",
            "Weber",
            "Meyer",
            "Wagner",
            "Becker",
            "Schulz",
            "Hoffmann",
            "Koch",
            "Bauer",
        ),
        ("Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main", "Leipzig"),
    ),
    CountrySpec(
        "FR",
        6,
        (("fr", 1),),
        (("amazon_de", 4), ("aliexpress", 3), ("shopify", 1)),
        ("Gabriel", "Louise", "Léo", "Jade", "Hugo", "Manon", "Arthur", "Camille", "Théo", "Inès"),
        ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit", "Durand", "Leroy", "Moreau", "Lefèvre"),
        ("Paris", "Lyon", "Marseille", "Toulouse", "Lille"),
    ),
    CountrySpec(
        "ES",
        5,
        (("es", 1),),
        (("amazon_de", 3), ("aliexpress", 3)),
        ("Hugo", "Lucía", "Martín", "Sofía", "Pablo", "Martina", "Daniel", "Paula", "Alejandro", "Carmen"),
        ("García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Ruiz"),
        ("Madrid", "Barcelona", "Valencia", "Sevilla", "Bilbao"),
    ),
    CountrySpec(
        "IT",
        4,
        (("it", 1),),
        (("amazon_de", 3), ("aliexpress", 2)),
        (
            "Leonardo",
            "Sofia",
            "Francesco",
            "Giulia",
            "Alessandro",
            "Aurora",
            "Lorenzo",
            "Chiara",
            "Matteo",
            "Francesca",
        ),
        ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco"),
        ("Roma", "Milano", "Napoli", "Torino", "Bologna"),
    ),
    CountrySpec(
        "NL",
        3,
        (("nl", 1),),
        (("amazon_de", 2), ("aliexpress", 2), ("shopify", 1)),
        ("Daan", "Emma", "Sem", "Julia", "Lucas", "Mila", "Finn", "Tess", "Bram", "Sanne"),
        ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Visser", "Smit", "Meijer", "Mulder"),
        ("Amsterdam", "Rotterdam", "Utrecht", "Eindhoven", "Groningen"),
    ),
    CountrySpec(
        "PL",
        3,
        (("pl", 1),),
        (("amazon_de", 2), ("aliexpress", 3)),
        ("Jakub", "Zuzanna", "Antoni", "Julia", "Jan", "Maja", "Michał", "Hanna", "Piotr", "Agnieszka"),
        (
            "Nowak",
            "Kowalski",
            "Wiśniewski",
            "Wójcik",
            "Kowalczyk",
            "Kamiński",
            "Lewandowski",
            "Zieliński",
            "Szymański",
            "Dąbrowski",
        ),
        ("Warszawa", "Kraków", "Wrocław", "Poznań", "Gdańsk"),
    ),
    CountrySpec(
        "BR",
        9,
        (("pt", 1),),
        (("shopee_br", 6), ("aliexpress", 3)),
        (
            "Miguel",
            "Helena",
            "Arthur",
            "Alice",
            "Gael",
            "Laura",
            "Heitor",
            "Valentina",
            "João",
            "Ana",
            "Rafael",
            "Beatriz",
        ),
        (
            "Silva",
            "Santos",
            "Oliveira",
            "Souza",
            "Rodrigues",
            "Ferreira",
            "Alves",
            "Pereira",
            "Lima",
            "Gomes",
            "Costa",
            "Ribeiro",
        ),
        ("São Paulo, SP", "Rio de Janeiro, RJ", "Belo Horizonte, MG", "Curitiba, PR", "Recife, PE"),
    ),
    CountrySpec(
        "PT",
        1,
        (("pt", 1),),
        (("aliexpress", 3), ("amazon_de", 1)),
        ("Francisco", "Maria", "Afonso", "Leonor", "Tomás", "Matilde", "Duarte", "Carolina"),
        ("Silva", "Santos", "Ferreira", "Pereira", "Oliveira", "Costa", "Martins", "Sousa"),
        ("Lisboa", "Porto", "Braga", "Coimbra"),
    ),
    CountrySpec(
        "MX",
        4,
        (("es", 1),),
        (("amazon_us", 2), ("aliexpress", 2), ("tiktok", 1)),
        ("Santiago", "Ximena", "Mateo", "Valeria", "Sebastián", "Regina", "Diego", "Camila", "Emiliano", "Fernanda"),
        ("Hernández", "García", "Martínez", "López", "González", "Pérez", "Rodríguez", "Sánchez", "Ramírez", "Flores"),
        ("Ciudad de México", "Guadalajara", "Monterrey", "Puebla"),
    ),
    CountrySpec(
        "JP",
        4,
        (("ja", 1),),
        (("aliexpress", 3), ("shopify", 2), ("email", 1)),
        ("陽翔", "陽葵", "蓮", "凛", "湊", "結菜", "大翔", "美咲", "健太", "さくら"),
        ("佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤"),
        ("東京都", "大阪市", "横浜市", "名古屋市", "札幌市"),
        name_order="family_given",
        latin=(
            ("haruto", "himari", "ren", "rin", "minato", "yuina", "hiroto", "misaki", "kenta", "sakura"),
            ("sato", "suzuki", "takahashi", "tanaka", "ito", "watanabe", "yamamoto", "nakamura", "kobayashi", "kato"),
        ),
    ),
    CountrySpec(
        "KR",
        3,
        (("ko", 1),),
        (("aliexpress", 3), ("shopify", 1)),
        ("민준", "서연", "서준", "지우", "도윤", "하은", "예준", "수아", "지호", "지민"),
        ("김", "이", "박", "최", "정", "강", "조", "윤", "장", "임"),
        ("서울", "부산", "인천", "대구", "대전"),
        name_order="family_given_nospace",
        latin=(
            ("minjun", "seoyeon", "seojun", "jiwoo", "doyun", "haeun", "yejun", "sua", "jiho", "jimin"),
            ("kim", "lee", "park", "choi", "jung", "kang", "cho", "yoon", "jang", "lim"),
        ),
    ),
    CountrySpec(
        "SA",
        3,
        (("ar", 1),),
        (("aliexpress", 3), ("email", 1), ("shopify", 1)),
        ("محمد", "نورة", "عبدالله", "سارة", "فهد", "ريم", "خالد", "لمى", "سلطان", "هيفاء"),
        ("العتيبي", "القحطاني", "الغامدي", "الشمري", "الدوسري", "الحربي", "الزهراني", "المطيري"),
        ("الرياض", "جدة", "الدمام", "مكة المكرمة"),
        latin=(
            ("mohammed", "noura", "abdullah", "sara", "fahad", "reem", "khalid", "lama", "sultan", "haifa"),
            ("alotaibi", "alqahtani", "alghamdi", "alshammari", "aldosari", "alharbi", "alzahrani", "almutairi"),
        ),
    ),
    CountrySpec(
        "AE",
        2,
        (("ar", 2), ("en", 1)),
        (("aliexpress", 2), ("shopify", 1), ("email", 1)),
        ("أحمد", "مريم", "عمر", "فاطمة", "يوسف", "شيخة", "راشد", "عائشة"),
        ("المنصوري", "الكعبي", "الظاهري", "النعيمي", "الشامسي", "المزروعي"),
        ("دبي", "أبوظبي", "الشارقة"),
        latin=(
            ("ahmed", "maryam", "omar", "fatima", "yousef", "shaikha", "rashid", "aisha"),
            ("almansoori", "alkaabi", "aldhaheri", "alnuaimi", "alshamsi", "almazrouei"),
        ),
    ),
    CountrySpec(
        "SG",
        6,
        (("en", 3), ("zh", 2)),
        (("shopee_sg", 6), ("aliexpress", 1)),
        ("伟杰", "慧敏", "俊杰", "丽娟", "志明", "美玲", "家豪", "雅婷"),
        ("陈", "林", "黄", "李", "吴", "王", "张", "刘"),
        ("Singapore",),
        name_order="family_given_nospace",
        latin=(
            ("weijie", "huimin", "junjie", "lijuan", "zhiming", "meiling", "jiahao", "yating"),
            ("tan", "lim", "ng", "lee", "goh", "ong", "teo", "chua"),
        ),
    ),
)

NOTE_TAGS_BY_CATEGORY: dict[str, tuple[str, ...]] = {
    "quality_issue": ("defect", "battery", "replacement-sent"),
    "size_mismatch": ("size-chart", "exchange"),
    "not_received": ("lost-parcel", "reship"),
    "wrong_or_missing_item": ("warehouse-error", "reship"),
    "usage_question": ("how-to",),
    "return": ("return-label",),
    "exchange": ("exchange",),
    "refund": ("refund-pending",),
    "warranty_repair": ("warranty", "3c"),
    "logistics": ("customs", "carrier-delay"),
    "complaint": ("negative-review-risk", "escalated"),
    "other": ("invoice",),
}
EXTRA_TAGS = ("vip", "a-to-z-claim", "shopee-dispute", "ebay-case", "black-friday", "11.11", "prime-day")
