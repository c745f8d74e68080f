"""The HTTP API (django-ninja, /api/v1).

Its schemas build their pydantic validators and serialisers on first use, not when their module is
imported (pydantic's `defer_build`, set on ninja's Schema before any of ours subclasses it): a web process
keeps only those of the operations it serves (issue 13, web process memory; bench/web_rss.py)."""

from ninja import Schema

Schema.model_config["defer_build"] = True
