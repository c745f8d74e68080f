"""The Shopify Admin GraphQL schema (API 2025-01 introspection, see SOURCES.md) as a graphql-core
schema, extended with the `@idempotent(key:)` directive that later API versions declare (optional on
refundCreate from 2026-01, required from 2026-04: we target 2026-04, see client.API_VERSION).

Used by the tests (every document in operations.py must validate) and by the fake server (it parses,
validates and executes every request against it). The connector itself never loads it: building it
takes about a second and some 100 MB would be wasted in a worker."""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path

from graphql import GraphQLError, GraphQLSchema, build_client_schema, extend_schema, parse, validate

SCHEMA_FILE = Path(__file__).with_name("admin_schema_2025-01.json.gz")
IDEMPOTENT_DIRECTIVE_SDL = "directive @idempotent(key: String!) on FIELD"


@cache
def admin_schema() -> GraphQLSchema:
    with gzip.open(SCHEMA_FILE) as fh:
        introspection = json.load(fh)
    schema = build_client_schema(introspection["data"])
    schema = extend_schema(schema, parse(IDEMPOTENT_DIRECTIVE_SDL))
    # The published introspection has a few interface/implementation deprecation mismatches
    # (e.g. Node.id vs DiscountAutomaticBxgy.id) that graphql-core's schema validation rejects;
    # they do not affect documents, so the schema is marked as validated.
    schema._validation_errors = []
    return schema


def validation_errors(document: str) -> list[GraphQLError]:
    """What is wrong with `document` against the Admin schema (empty: valid)."""
    try:
        ast = parse(document)
    except GraphQLError as exc:
        return [exc]
    return list(validate(admin_schema(), ast))
