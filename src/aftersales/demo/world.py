"""The demo seller's reference rows (organization, roles, users, teams, stores, products, tags),
created through the ORM: a few dozen rows, the same for every ticket count."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.hashers import make_password

from aftersales.accounts.models import DEFAULT_ROLE_PERMISSIONS, Membership, Organization, Role, RoleKind, Team, User
from aftersales.catalog.models import Product, Store, ValueTier
from aftersales.inbox.models import CategoryLabel, Tag
from aftersales.returns.notify_templates import rma_templates_seed

from . import data
from .inventory import demo_inventory

OPERATOR_USERNAME = "operator"

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
    for store_spec in data.STORES:
        store = Store.objects.create(
            organization=org,
            name=store_spec.name,
            platform=store_spec.platform,
            site=store_spec.site,
            external_id=store_spec.seller_id,
            default_language=store_spec.language,
            timezone=store_spec.timezone,
            currency=store_spec.currency,
        )
        stores[store_spec.key] = StoreRef(store.pk, store_spec)
    products = []
    for product_spec in data.PRODUCTS:
        product = Product.objects.create(
            organization=org,
            sku=product_spec.sku,
            title=product_spec.title,
            category=product_spec.category,
            price_amount=product_spec.price_usd,
            price_currency="USD",
            value_tier=value_tier(product_spec.price_usd, org),
            warranty_months=product_spec.warranty_months,
            is_serialised=product_spec.serialised,
        )
        products.append(ProductRef(product.pk, product_spec))
    demo_inventory(organization_id=org.pk, products=data.PRODUCTS)  # warehouses and opening stock
    # One Argon2 hash (the project's first hasher) shared by every demo user: hashing is slow on purpose.
    password_hash = make_password(data.DEMO_PASSWORD)
    users: dict[str, UserRef] = {}
    user_rows: dict[str, User] = {}
    for user_spec in data.USERS:
        user = User.objects.create(
            username=user_spec.username,
            email=f"{user_spec.username}@gadgets.example",
            display_name=user_spec.display_name,
            first_name=user_spec.display_name.split(" ")[0],
            last_name=" ".join(user_spec.display_name.split(" ")[1:]),
            organization=org,
            role=roles[user_spec.role],
            language=user_spec.language,
            password=password_hash,
        )
        user_rows[user_spec.username] = user
        users[user_spec.username] = UserRef(
            user.pk, user_spec.username, user_spec.display_name, user_spec.role != RoleKind.VIEWER
        )
    # The installation's operator: the one account of the Django admin (/admin/), outside every
    # organization. The demo seller's `admin` administers the organization in the agent UI only.
    if not User.objects.filter(username=OPERATOR_USERNAME).exists():
        User.objects.create(
            username=OPERATOR_USERNAME,
            email=f"{OPERATOR_USERNAME}@aftersales.example",
            display_name="Operator",
            organization=None,
            role=None,
            password=password_hash,
            is_staff=True,
            is_superuser=True,
        )
    teams = {}
    for team_spec in data.TEAMS:
        team = Team.objects.create(
            organization=org,
            name=team_spec.name,
            platforms=list(team_spec.platforms),
            languages=list(team_spec.languages),
            sku_categories=list(team_spec.sku_categories),
        )
        if team_spec.stores:
            team.stores.set([stores[key].id for key in team_spec.stores])
        members = [u for u in data.USERS if team_spec.name in u.teams]
        Membership.objects.bulk_create([Membership(team=team, user=user_rows[u.username]) for u in members])
        teams[team_spec.name] = TeamRef(
            team.pk, team_spec, tuple(users[u.username] for u in members if users[u.username].can_process)
        )
    tag_names = sorted({t for tags in data.NOTE_TAGS_BY_CATEGORY.values() for t in tags} | set(data.EXTRA_TAGS))
    tags = {name: Tag.objects.create(organization=org, name=name).pk for name in tag_names}
    CategoryLabel.objects.bulk_create(
        [
            CategoryLabel(organization=org, category=c, label_en=c.replace("_", " ").capitalize(), label_zh_hans=zh)
            for c, zh in CATEGORY_LABELS_ZH.items()
        ]
    )
    # The reply templates of the buyer notifications at each return and warranty step, in the nine
    # written languages (as accounts.services.organization_create seeds a new organization's).
    rma_templates_seed(organization_id=org.pk)
    return World(
        organization=org,
        stores=stores,
        products=tuple(products),
        users=users,
        teams=teams,
        tags=tags,
    )
