"""Building blocks shared by every schema: strict input models, ids, money, small references."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from ninja import Field, Schema
from ninja.schema import DjangoGetter
from pydantic import AfterValidator, AwareDatetime, ConfigDict, ValidationInfo, field_validator, model_validator
from pydantic.functional_validators import ModelWrapValidatorHandler

from aftersales.core.validation import MAX_ID, day_problem, instant_problem, storable_text_problem

# Ids are positive and fit a signed 64-bit column on every database we support (core.validation).
Id = Annotated[int, Field(gt=0, le=MAX_ID)]


def _in_range_instant(value: datetime) -> datetime:
    problem = instant_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _in_range_day(value: date) -> date:
    problem = day_problem(value)
    if problem:
        raise ValueError(problem)
    return value


# Every date-time the API reads: with an offset, between 2000 and 2100 in UTC (core.validation, which
# the web forms use too). A 422 names the field instead of an overflow deep in the database layer.
Instant = Annotated[
    AwareDatetime,
    AfterValidator(_in_range_instant),
    Field(description="ISO 8601 date-time with an offset, between 2000-01-01 and 2100-12-31 UTC"),
]
# Every calendar date the API reads.
Day = Annotated[date, AfterValidator(_in_range_day), Field(description="ISO 8601 date, years 2000 to 2100")]


def check_text(value: Any) -> Any:
    """Refuse text no database column can store: NUL characters and lone surrogates."""
    if isinstance(value, str):
        problem = storable_text_problem(value)
        if problem:
            raise ValueError(problem)
    elif isinstance(value, list | tuple):
        for item in value:
            check_text(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key)
            check_text(item)
    return value


class InputSchema(Schema):
    """Request bodies: unknown fields are refused (422 naming them), text is storable as given.

    Validated once: ninja's Schema validates an `extra="forbid"` model twice, the input itself (which
    refuses unknown fields) and then a `DjangoGetter` of it (which reads attributes, calls resolvers and
    callables, lists querysets) and keeps the second, so every body, and each nested input schema at each
    level, went through its validators twice (~4% of a token API ticket creation's CPU, issue 13). A
    JSON body is a plain dict of JSON values and an input schema has no resolvers: the getter finds the
    same values, so the first validation's model (the same fields, the same fields set, the same errors)
    is the answer. Anything else (a QueryDict, an object, a schema with resolvers) goes ninja's way."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(cls, values: Any, handler: ModelWrapValidatorHandler[Any], info: ValidationInfo) -> Any:
        # (The name of ninja's Schema validator: pydantic runs this one in its place.)
        if type(values) is dict and not cls._ninja_resolvers:
            return handler(values)
        handler(values)  # ninja's Schema._run_root_validator for a model that forbids extra fields
        return handler(DjangoGetter(values, cls, info.context))

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        return check_text(value)


class ErrorDetail(Schema):
    code: str
    message: str
    field: str | None = None


class ErrorOut(Schema):
    """The one error shape of the API, for every 4xx (and the rare 5xx)."""

    error: ErrorDetail


class MoneyOut(Schema):
    """An amount as a decimal string (never a float) with its ISO 4217 currency."""

    amount: str = Field(..., examples=["29.99"])
    currency: str = Field(..., examples=["USD"])


def money(amount: Decimal | None, currency: str) -> dict[str, str]:
    return {"amount": str(amount if amount is not None else Decimal("0")), "currency": currency}


class UserRef(Schema):
    id: int
    username: str
    display_name: str

    @staticmethod
    def resolve_display_name(obj: Any) -> str:
        return str(obj)


class StoreRef(Schema):
    id: int
    name: str
    platform: str


class CountOut(Schema):
    count: int


# Documented on every operation: all of them use the one error shape.
ERROR_CODES = frozenset({400, 401, 403, 404, 409, 413, 422})


def with_errors(ok: dict[int, Any]) -> dict[Any, Any]:
    return {**ok, ERROR_CODES: ErrorOut}
