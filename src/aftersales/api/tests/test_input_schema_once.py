"""Request bodies are validated once (api/schemas/common.InputSchema, issue 13): every input schema of the API
gives the same model, the same fields set and the same errors as ninja's own double validation, for valid and
invalid bodies alike; its validators run once per body."""

from __future__ import annotations

import random
from typing import Any

import pydantic
import pytest
from ninja.schema import Schema as NinjaSchema

from aftersales.api.schemas.common import InputSchema

# Values a JSON body can hold, tried in every field (most are wrong for most fields: errors are compared too).
CANDIDATES: list[Any] = [
    "x",
    "",
    "2026-11-11T08:00:00+00:00",
    "2026-11-11",
    "en",
    "DE",
    "buyer@example.com",
    "other",
    "\x00",
    " ",
    1,
    0,
    -1,
    2**70,
    1.5,
    True,
    False,
    None,
    [],
    ["x"],
    [1],
    [{"filename": "a.txt", "content_base64": "aGk="}],
    {},
    {"a": 1},
    {"amount": "1.00", "currency": "USD"},
]
ABSENT = object()


def _input_schemas() -> list[type[InputSchema]]:
    import aftersales.api.main  # noqa: F401  (every router and schema module)

    seen: dict[type, None] = {}
    todo = list(InputSchema.__subclasses__())
    while todo:
        cls = todo.pop()
        if cls not in seen:
            seen[cls] = None
            todo.extend(cls.__subclasses__())
    return sorted(seen, key=lambda c: (c.__module__, c.__qualname__))


def _with_ninjas_validator(cls: type[InputSchema]) -> type[InputSchema]:
    """`cls` validated as ninja's Schema does (the input, then a DjangoGetter of it)."""
    namespace = {"_run_root_validator": NinjaSchema.__dict__["_run_root_validator"], "__module__": cls.__module__}
    return type(f"{cls.__name__}NinjaWay", (cls,), namespace)


def _outcome(cls: type[pydantic.BaseModel], body: dict[str, Any]) -> tuple[str, Any, Any]:
    try:
        model = cls.model_validate(body)
    except pydantic.ValidationError as exc:
        return "error", exc.json(include_url=False), exc.title.removesuffix("NinjaWay")
    return "ok", model.model_dump(), _fields_set(model)


def _fields_set(value: Any) -> Any:
    """The fields set of a model and of the models inside it (what exclude_unset reads)."""
    if isinstance(value, pydantic.BaseModel):
        return (sorted(value.model_fields_set), {k: _fields_set(getattr(value, k)) for k in type(value).model_fields})
    if isinstance(value, list | tuple):
        return [_fields_set(v) for v in value]
    if isinstance(value, dict):
        return {k: _fields_set(v) for k, v in value.items()}
    return None


def _valid_value(annotation: Any) -> Any:
    """The first candidate the field's type takes, else ABSENT."""
    adapter = pydantic.TypeAdapter(annotation)
    for value in CANDIDATES:
        try:
            adapter.validate_python(value)
        except (pydantic.ValidationError, TypeError):
            continue
        return value
    return ABSENT


def _repaired(cls: type[InputSchema], body: dict[str, Any]) -> dict[str, Any]:
    """`body` with each field the schema's own validators refuse given another candidate they take."""
    body = dict(body)
    for _ in range(3):
        try:
            cls.model_validate(body)
        except pydantic.ValidationError as exc:
            wrong = {e["loc"][0] for e in exc.errors() if e["loc"] and isinstance(e["loc"][0], str)}
        else:
            return body
        for key in wrong:
            for value in CANDIDATES:
                try:
                    cls.model_validate({**body, key: value})
                except pydantic.ValidationError as exc:
                    if any(e["loc"][:1] == (key,) for e in exc.errors()):
                        continue
                body[key] = value
                break
    return body


def _bodies(cls: type[InputSchema], rng: random.Random) -> list[dict[str, Any]]:
    fields = cls.model_fields
    names = [f.alias or n for n, f in fields.items()]
    best = {}
    for field, key in zip(fields.values(), names, strict=True):
        try:
            value = _valid_value(field.annotation)
        except (pydantic.PydanticSchemaGenerationError, TypeError):  # (a type TypeAdapter cannot take alone)
            value = ABSENT
        if value is not ABSENT:
            best[key] = value
    best = _repaired(cls, best)
    bodies = [{}, dict(best), {**best, "unknown_field": 1}]
    bodies += [{k: v for k, v in best.items() if k != drop} for drop in best]  # each field left out
    for _ in range(25):  # random bodies: each field absent, its valid value or any candidate
        body = {}
        for key in names:
            pick = rng.random()
            if pick < 0.5 and key in best:
                body[key] = best[key]
            elif pick < 0.8:
                body[key] = rng.choice(CANDIDATES)
        bodies.append(body)
    return bodies


SCHEMAS = _input_schemas()


def test_every_input_schema_is_covered():
    assert len(SCHEMAS) > 50
    assert all(not cls._ninja_resolvers for cls in SCHEMAS), "an input schema with resolvers goes ninja's way"


@pytest.mark.parametrize("cls", SCHEMAS, ids=lambda c: f"{c.__module__.rsplit('.', 1)[-1]}.{c.__qualname__}")
def test_same_outcome_as_ninjas_double_validation(cls):
    reference = _with_ninjas_validator(cls)
    rng = random.Random(cls.__qualname__)
    bodies = _bodies(cls, rng)
    outcomes = set()
    for body in bodies:
        ours, ninjas = _outcome(cls, body), _outcome(reference, body)
        assert ours == ninjas, body
        outcomes.add(ours[0])
    assert "error" in outcomes  # ({} with a required field, or the unknown field)


def test_a_body_and_its_nested_inputs_are_validated_once(monkeypatch):
    from aftersales.api.schemas import common
    from aftersales.api.schemas.inbound import InboundMessageIn

    seen: list[Any] = []
    real = common.check_text

    def counting(value: Any) -> Any:
        seen.append(value)
        return real(value)

    monkeypatch.setattr(common, "check_text", counting)
    attachment = {"filename": "note.txt", "content_base64": "aGk="}
    body = {"store_id": 1, "external_id": "m-1", "customer_external_id": "b-1", "attachments": [attachment]}
    model = InboundMessageIn.model_validate(body)
    assert model.attachments[0].filename == "note.txt"
    texts = [v for v in seen if isinstance(v, str)]
    # each text once: the message's fields, the attachment's (the attachment is also checked inside the list once)
    assert sorted(set(texts)) == sorted(texts), texts
    assert texts.count("m-1") == 1 and texts.count("note.txt") == 1


def test_an_object_is_validated_as_ninja_does():
    """Not a dict (an object, as from_attributes allows): ninja's way, the getter reads its attributes."""
    from aftersales.api.schemas.inbound import InboundMessageIn

    class Body:
        store_id = 1
        external_id = "m-1"
        customer_external_id = "b-1"

    ours = _outcome(InboundMessageIn, Body())  # type: ignore[arg-type]
    assert ours == _outcome(_with_ninjas_validator(InboundMessageIn), Body())  # type: ignore[arg-type]
    assert ours[0] == "ok"
