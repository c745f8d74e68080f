"""Fixtures shared by every test: the personas' world, API clients."""

from __future__ import annotations

import ast
import functools
import inspect
import re
import types
from pathlib import Path
from typing import Any

import pytest

# The Shopify fake's fixtures (shopify_fake, recorded_waits, shopify_store), used by the connector's
# tests and the returns' tests alike.
pytest_plugins = ["aftersales.testing.shopify"]


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    from aftersales.testing.personas import build_world

    return build_world()


@pytest.fixture(autouse=True)
def _fresh_permission_cache():  # type: ignore[no-untyped-def]
    yield


@pytest.fixture
def smtp_server(settings):  # type: ignore[no-untyped-def]
    """A real SMTP server on 127.0.0.1; Django's SMTP backend is pointed at it."""
    from aftersales.testing.smtp import SmtpServer

    server = SmtpServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    yield server
    server.stop()


# The PostgreSQL pass of scripts/test.sh (--only-database-tests) runs only the tests that can reach the
# database. pytest-django blocks the database in every other test, so those cannot behave differently on
# PostgreSQL: they ran in the SQLite pass. A test is kept when it asks for the database (the django_db mark, a
# Django TestCase with databases, a fixture among _DATABASE_FIXTURES, directly or through other fixtures), when
# it carries the postgres mark, or when its text could reach the database, or depend on which one it is, another
# way (_ROUTES: django_db_blocker.unblock(), its own connections, connection.vendor, settings.DATABASES, the
# settings modules imported again (they read DATABASE_URL), a mention of PostgreSQL or SQLite; _PROCESSES: a
# Python process or server of ours, which inherits DATABASE_URL). Its text: the test function, its module
# without the other test functions, the test helper modules the module imports, its fixtures. When in doubt a
# test stays in both passes; the mark no_database deselects a reviewed test whose text looks otherwise.
_DATABASE_FIXTURES = frozenset(
    {
        "db",
        "transactional_db",
        "django_db_reset_sequences",
        "django_db_serialized_rollback",
        "django_db_setup",
        "_django_db_helper",
        "live_server",
        "django_user_model",
        "django_username_field",
        "admin_user",
        "admin_client",
    }
)
_ROUTES = re.compile(
    r"from django\.db import (?:\([^)]*|[^\n]*)\bconnections?\b|django\.db\.connections?\b|ConnectionHandler"
    r"|vendor|DATABASE|settings_dict|django_db_blocker|getfixturevalue|psycopg|sqlite3|\.cursor\("
    r"|call_command|MigrationExecutor|run_together|huey|[Pp]ostgre|[Ss][Qq][Ll]ite"
    r"|aftersales\.settings|DJANGO_SETTINGS_MODULE|importlib|reload\("
)
_PROCESSES = re.compile(r"subprocess|Popen|multiprocessing|os\.fork")
_OUR_PROCESSES = re.compile(r"sys\.executable|manage|gunicorn|huey|environ|DATABASE|runserver|aftersales\.")
_ROOT = Path(__file__).resolve().parent
_only_database_tests = pytest.StashKey[dict[str, int]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--only-database-tests",
        action="store_true",
        help="deselect the tests that cannot reach the database (the PostgreSQL pass of scripts/test.sh: "
        "they behave the same on every database and ran in its SQLite pass)",
    )


def _route(text: str) -> str | None:
    """How this text reaches the database (or its vendor) other than through pytest-django, if it does."""
    if found := _ROUTES.search(text):
        return found.group()
    if (found := _PROCESSES.search(text)) and _OUR_PROCESSES.search(text):
        return found.group()
    return None


def _own_file(obj: object) -> Path | None:
    try:
        path = Path(inspect.getsourcefile(obj) or "").resolve()  # type: ignore[arg-type]
    except TypeError:
        return None
    return path if path.is_relative_to(_ROOT) and ".venv" not in path.parts else None


@functools.cache
def _module_layout(path: Path) -> tuple[str, dict[str, str]]:
    """A test module's text without its test functions, and each test function's text (decorators too)."""
    text = path.read_text()
    lines = text.splitlines(keepends=True)
    functions: dict[str, str] = {}
    spans: list[tuple[int, int]] = []

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
                spans.append((start, node.end_lineno or node.lineno))
                functions[prefix + node.name] = "".join(lines[start : node.end_lineno])
            elif isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.")

    visit(ast.parse(text).body, "")
    for start, end in spans:
        lines[start:end] = [""] * (end - start)
    return "".join(lines), functions


@functools.cache
def _helper_routes(module: types.ModuleType) -> str | None:
    """How the test helper modules (not conftest.py) that a test module imports reach the database."""
    for value in vars(module).values():
        helper = value if isinstance(value, types.ModuleType) else inspect.getmodule(value)
        path = _own_file(helper) if helper is not None and helper is not module else None
        helps = path is not None and bool({"tests", "testing"} & set(path.parts)) and path.name != "conftest.py"
        if helps and path and (route := _route(path.read_text())):
            return f"{path.relative_to(_ROOT)}: {route}"
    return None


def _text_routes(item: pytest.Item) -> str | None:
    """How the test's own text (its function, its module without the other test functions, the test
    helper modules it imports) reaches the database, if it does."""
    module = getattr(item, "module", None)
    path = _own_file(module) if module is not None else None
    if module is None or path is None:
        return "not a test function of this project"
    common, functions = _module_layout(path)
    cls = getattr(item, "cls", None)
    name = getattr(item, "originalname", item.name)
    own = functions.get(f"{cls.__name__}.{name}" if cls else name)
    if own is None:  # not defined in its module's text (imported, generated): the whole module counts
        own = path.read_text() + "".join(p.read_text() for p in [_own_file(getattr(item, "obj", None))] if p)
    if route := _route(common + own):
        return f"{path.relative_to(_ROOT)}: {route}"
    return _helper_routes(module)


@functools.cache
def _fixture_routes(func: Any) -> str | None:
    path = _own_file(func)
    if path is None:
        return None  # pytest's and pytest-django's own fixtures: the database ones are _DATABASE_FIXTURES
    if path.name == "conftest.py":
        text = inspect.getsource(func)
    elif path.name.startswith("test_"):  # a fixture of a test module: the module without its test functions
        text = _module_layout(path)[0]
    else:  # a test helper module's
        text = path.read_text()
    route = _route(text)
    return f"fixture {func.__name__} ({path.relative_to(_ROOT)}): {route}" if route else None


def _database_reason(item: pytest.Item) -> str | None:
    """Why the test can reach the database (or depend on which one it is), None if it cannot."""
    from django.test import SimpleTestCase

    cls = getattr(item, "cls", None)
    if cls is not None and issubclass(cls, SimpleTestCase) and cls.databases:
        return "Django TestCase"
    if item.get_closest_marker("django_db") or item.get_closest_marker("postgres"):
        return "mark"
    names = getattr(item, "fixturenames", ())
    if _DATABASE_FIXTURES.intersection(names):
        return "fixture"
    if item.get_closest_marker("no_database"):
        return None
    if _text_routes(item):
        return "test text"
    info = getattr(item, "_fixtureinfo", None)
    for name in names:
        for fixturedef in info.name2fixturedefs.get(name, ()) if info else ():
            if _fixture_routes(fixturedef.func):
                return "fixture text"
    return None


@pytest.hookimpl(trylast=True)  # after -m has deselected
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("only_database_tests"):
        return
    kept: list[pytest.Item] = []
    deselected: list[pytest.Item] = []
    counts = {"deselected": 0, "Django TestCase": 0, "mark": 0, "fixture": 0, "test text": 0, "fixture text": 0}
    for item in items:
        reason = _database_reason(item)
        (kept if reason else deselected).append(item)
        counts[reason or "deselected"] += 1
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
    config.stash[_only_database_tests] = counts
    if hasattr(config, "workeroutput"):
        config.workeroutput["only_database_tests"] = counts


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    counts = getattr(node, "workeroutput", {}).get("only_database_tests")
    if counts:
        node.config.stash[_only_database_tests] = counts


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    counts = config.stash.get(_only_database_tests, None)
    if counts:
        kept = sum(counts.values()) - counts["deselected"]
        terminalreporter.write_line(
            f"--only-database-tests: {counts['deselected']} tests deselected: they cannot reach the database "
            f"(no database fixture or mark, nothing in their text that reaches it another way) and ran in "
            f"the SQLite pass; {kept} kept: {counts['fixture']} database fixture, {counts['mark']} "
            f"django_db/postgres mark, {counts['Django TestCase']} Django TestCase, {counts['test text']} "
            f"test text, {counts['fixture text']} fixture text"
        )
