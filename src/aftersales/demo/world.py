"""The demo seller's reference rows (organization, roles, users, teams, stores, products, tags),
created through the ORM: a few dozen rows, the same for every ticket count."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.hashers import make_password

from aftersales.accounts.models import DEFAULT_ROLE_PERMISSIONS, Membership, Organization, Role, RoleKind, Team, User
from aftersales.catalog.models import Product, Store, ValueTier
from aftersales.inbox.models import CategoryLabel, Tag

from . import data

CATEGORY_LABELS_ZH = {
    "quality_issue": "质量问题",
    "size_mismatch": "尺码不符",
    "not_received": "未收到货",
    "wrong_or_missing_item": "错发/漏发",
    "usage_question": "使用咨询",
    "return": "退货",
    "exchange": "换货",
    "refund": "退款",
    "warranty_repair": "保修/维修",
    "logistics": "物流问题",
    "complaint": "投诉",
    "other": "其他",
}


@dataclass(frozen=True)
class StoreRef:
    id: int
    spec: data.StoreSpec


@dataclass(frozen=True)
class ProductRef:
    id: int
    spec: data.ProductSpec


@dataclass(frozen=True)
class UserRef:
    id: int
    username: str
    display_name: str
    can_process: bool


@dataclass(frozen=True)
class TeamRef:
    id: int
    spec: data.TeamSpec
    members: tuple[UserRef, ...]  # those who can process tickets


@dataclass(frozen=True)
class World:
    organization: Organization
    stores: dict[str, StoreRef]
    products: tuple[ProductRef, ...]
    users: dict[str, UserRef]
    teams: dict[str, TeamRef]
    tags: dict[str, int]


def value_tier(price: Decimal, org: Organization) -> str:
    if price >= org.high_value_threshold:
        return ValueTier.HIGH
    if price >= org.mid_value_threshold:
        return ValueTier.MID
    return ValueTier.LOW


def build_world() -> World:
    """Create the reference rows. The caller holds the transaction."""
    org = Organization.objects.create(
        name=data.ORG_NAME,
        slug=data.ORG_SLUG,
        timezone="Asia/Shanghai",
        default_currency="USD",
        high_value_threshold=data.HIGH_VALUE_USD,
        mid_value_threshold=data.MID_VALUE_USD,
    )
    roles = {
        kind: Role.objects.create(
            organization=org,
            kind=kind,
            name=str(RoleKind(kind).label),
            permissions=[str(p) for p in DEFAULT_ROLE_PERMISSIONS[kind]],
            approval_limit_amount=data.APPROVER_LIMIT_USD if kind == RoleKind.APPROVER else Decimal("0"),
            approval_limit_currency="USD",
        )
        for kind in RoleKind.values
    }
    stores = {}
    for spec in data.STORES:
        store = Store.objects.create(
            organization=org,
            name=spec.name,
            platform=spec.platform,
            site=spec.site,
            external_id=spec.seller_id,
            default_language=spec.language,
            timezone=spec.timezone,
            currency=spec.currency,
        )
        stores[spec.key] = StoreRef(store.pk, spec)
    products = []
    for spec in data.PRODUCTS:
        product = Product.objects.create(
            organization=org,
            sku=spec.sku,
            title=spec.title,
            category=spec.category,
            price_amount=spec.price_usd,
            price_currency="USD",
            value_tier=value_tier(spec.price_usd, org),
            warranty_months=spec.warranty_months,
            is_serialised=spec.serialised,
        )
        products.append(ProductRef(product.pk, spec))
    # One Argon2 hash (the project's first hasher) shared by every demo user: hashing is slow on purpose.
    password_hash = make_password(data.DEMO_PASSWORD)
    users: dict[str, UserRef] = {}
    user_rows: dict[str, User] = {}
    for spec in data.USERS:
        user = User.objects.create(
            username=spec.username,
            email=f"{spec.username}@gadgets.example",
            display_name=spec.display_name,
            first_name=spec.display_name.split(" ")[0],
            last_name=" ".join(spec.display_name.split(" ")[1:]),
            organization=org,
            role=roles[spec.role],
            language=spec.language,
            password=password_hash,
            is_staff=spec.role == RoleKind.ADMIN,
            is_superuser=spec.role == RoleKind.ADMIN,  # the demo admin may also browse /admin/
        )
        user_rows[spec.username] = user
        users[spec.username] = UserRef(user.pk, spec.username, spec.display_name, spec.role != RoleKind.VIEWER)
    teams = {}
    for spec in data.TEAMS:
        team = Team.objects.create(
            organization=org,
            name=spec.name,
            platforms=list(spec.platforms),
            languages=list(spec.languages),
            sku_categories=list(spec.sku_categories),
        )
        if spec.stores:
            team.stores.set([stores[key].id for key in spec.stores])
        members = [u for u in data.USERS if spec.name in u.teams]
        Membership.objects.bulk_create([Membership(team=team, user=user_rows[u.username]) for u in members])
        teams[spec.name] = TeamRef(
            team.pk, spec, tuple(users[u.username] for u in members if users[u.username].can_process)
        )
    tag_names = sorted({t for tags in data.NOTE_TAGS_BY_CATEGORY.values() for t in tags} | set(data.EXTRA_TAGS))
    tags = {name: Tag.objects.create(organization=org, name=name).pk for name in tag_names}
    CategoryLabel.objects.bulk_create(
        [
            CategoryLabel(organization=org, category=c, label_en=c.replace("_", " ").capitalize(), label_zh_hans=zh)
            for c, zh in CATEGORY_LABELS_ZH.items()
        ]
    )
    return World(
        organization=org,
        stores=stores,
        products=tuple(products),
        users=users,
        teams=teams,
        tags=tags,
    )
