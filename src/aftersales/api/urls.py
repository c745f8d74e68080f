from __future__ import annotations

from functools import cached_property
from typing import Any

from django.urls import URLPattern, URLResolver, path, re_path
from django.urls.exceptions import Resolver404
from django.urls.resolvers import ResolverMatch, RoutePattern

from .docs import docs_asset
from .errors import unknown_route
from .main import api


class FirstSegmentResolver(URLResolver):
    """Django's URLResolver, trying only the patterns that can match the path's first segment (issue 13).

    Django tries an included URLconf's patterns in order until one matches: for the API's ~230 operations
    that was ~55 regular expressions per request (~5% of a token API ticket creation's CPU). A route whose
    first segment is literal text (`tickets/<ticket_id>`: `tickets`) can only match a path with that first
    segment; here each path tries the patterns of its first segment, plus any pattern without a literal
    first segment, in their original order. So the same pattern answers as before, for every path;
    reversing is Django's own (the same url_patterns). Only the `tried` list of a 404 (DEBUG's page)
    names fewer patterns."""

    @cached_property
    def _buckets(self) -> tuple[dict[str, list[Any]], list[Any]]:
        literal: dict[int, str] = {}
        for i, pattern in enumerate(self.url_patterns):
            if isinstance(pattern, URLPattern) and isinstance(pattern.pattern, RoutePattern):
                first = str(pattern.pattern).split("/", 1)[0]  # (str(): the route as written)
                if "<" not in first:
                    literal[i] = first
        others = [p for i, p in enumerate(self.url_patterns) if i not in literal]
        buckets: dict[str, list[Any]] = {}
        for first in set(literal.values()):
            buckets[first] = [p for i, p in enumerate(self.url_patterns) if literal.get(i, first) == first]
        return buckets, others

    def resolve(self, path: Any) -> ResolverMatch:
        # Django 5.2's URLResolver.resolve, iterating over the candidates instead of every pattern.
        path = str(path)
        tried: list[Any] = []
        match = self.pattern.match(path)
        if not match:
            raise Resolver404({"path": path})
        new_path, args, kwargs = match
        buckets, others = self._buckets
        for pattern in buckets.get(new_path.split("/", 1)[0], others):
            try:
                sub_match = pattern.resolve(new_path)
            except Resolver404 as e:
                self._extend_tried(tried, pattern, e.args[0].get("tried"))  # type: ignore[attr-defined]
            else:
                if sub_match:
                    sub_match_dict = {**kwargs, **self.default_kwargs}
                    sub_match_dict.update(sub_match.kwargs)
                    sub_match_args = sub_match.args
                    if not sub_match_dict:
                        sub_match_args = args + sub_match.args
                    current_route = "" if isinstance(pattern, URLPattern) else str(pattern.pattern)
                    self._extend_tried(tried, pattern, sub_match.tried)  # type: ignore[attr-defined]
                    return ResolverMatch(
                        sub_match.func,
                        sub_match_args,
                        sub_match_dict,
                        sub_match.url_name,
                        [self.app_name, *sub_match.app_names],
                        [self.namespace, *sub_match.namespaces],
                        self._join_route(current_route, sub_match.route),  # type: ignore[attr-defined]
                        tried,
                        captured_kwargs=sub_match.captured_kwargs,
                        extra_kwargs={**self.default_kwargs, **sub_match.extra_kwargs},
                    )
                tried.append([pattern])
        raise Resolver404({"tried": tried, "path": new_path})


_patterns, _app_name, _namespace = api.urls

urlpatterns = [
    path("docs/assets/<str:name>", docs_asset, name="api-docs-asset"),
    # path("", api.urls), with the resolver above
    FirstSegmentResolver(RoutePattern("", is_endpoint=False), _patterns, app_name=_app_name, namespace=_namespace),
    # Anything else under /api/v1/ is a JSON 404, not the web UI's HTML page.
    re_path(r"^.*$", unknown_route),
]
