"""The HTTP API (django-ninja, /api/v1).

Its schemas (and ninja's parameter models) build their pydantic validators and serialisers on first use, not
when their module is imported (pydantic's `defer_build`, set on ninja's Schema before any of ours subclasses
it): a web process keeps only those of the operations it serves (issue 13, web process memory; bench/web_rss.py).

One response model per response type, shared by the operations: ninja makes a new pydantic class
("NinjaResponseSchema", one field `response` of the declared type) for every status code of every
operation, ~1,700 identical classes for this API's `{200: X, 401: Error, 403: Error, ...}` declarations,
~20 MiB in every web process. `_shared_response_model` returns the class made for the same type before
(an unhashable type gets its own, as before); the class has no other state, so validation, serialisation
and the OpenAPI document are the same (the OpenAPI tests compare it)."""

from typing import Any

from ninja import Schema
from ninja.operation import Operation
from ninja.params.models import ParamModel

Schema.model_config["defer_build"] = True
# The same for the models ninja makes for each operation's parameters (its path, query, header and body
# models: ~250 classes, subclasses of these, built when the operation is declared): a worker builds those of
# the operations it serves, on the first request to each (-1.8 MiB per web process after the URLconf; the
# OpenAPI document is the same: api/tests/test_openapi.py compares it with the eagerly built models').
_param_models: list[Any] = [ParamModel, *ParamModel.__subclasses__()]
for _param_model in _param_models:
    _param_model.model_config["defer_build"] = True

_ninja_create_response_model = Operation._create_response_model
_response_models: dict[Any, Any] = {}


def _shared_response_model(self: Operation, response_param: Any) -> Any:
    try:
        return _response_models[response_param]
    except KeyError:
        model = _response_models[response_param] = _ninja_create_response_model(self, response_param)
        return model
    except TypeError:  # an unhashable annotation: a class of its own, as ninja makes it
        return _ninja_create_response_model(self, response_param)


Operation._create_response_model = _shared_response_model  # type: ignore[method-assign]
