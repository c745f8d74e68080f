"""Query strings are checked as strictly as bodies: a parameter the operation does not declare is a
422 naming it (a typo such as `?stauts=open` must not silently return everything)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _

from aftersales.core.errors import ValidationFailed

from .schemas.common import check_text


def declared_query_names(view_func: Callable[..., Any]) -> frozenset[str]:
    operation = getattr(view_func, "_ninja_operation", None)
    names: set[str] = set()
    for model in getattr(operation, "models", ()):
        if getattr(model, "__ninja_param_source__", None) != "query":
            continue
        flatten = getattr(model, "__ninja_flatten_map__", None)
        if flatten:
            names.update(flatten)
        else:
            names.update(field.alias or name for name, field in model.model_fields.items())
    return frozenset(names)


def reject_unknown_query(view_func: Callable[..., Any]) -> Callable[..., Any]:
    """Operation decorator (runs after authentication and parameter validation)."""
    allowed: frozenset[str] | None = None

    @wraps(view_func)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        nonlocal allowed
        if allowed is None:
            allowed = declared_query_names(view_func)
        for name in sorted(request.GET):
            if name not in allowed:
                known = ", ".join(sorted(allowed)) or "none"
                raise ValidationFailed(
                    _("unknown query parameter %(name)r; known: %(known)s") % {"name": name, "known": known}, field=name
                )
            try:
                check_text(request.GET.getlist(name))
            except ValueError as exc:
                raise ValidationFailed(_("%(name)s: %(exc)s") % {"name": name, "exc": exc}, field=name) from None
        return view_func(request, *args, **kwargs)

    return wrapped
