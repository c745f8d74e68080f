"""Keep optional parts of third-party libraries out of every process (issue 13, web process memory).

Some libraries import an optional dependency at module level, inside `try: ... except ImportError`,
whether or not the process will use it: huey.storage imports redis (and, through it, cryptography's
OpenSSL bindings: ~20 MiB RSS) even when the queue is SQLite's; httpx imports its command-line client
(click, rich, pygments: ~4 MiB). `import_without(module, *optional)` imports `module` while `optional`
looks absent, so the library takes its own "not installed" branch; the names are put back right after,
so anything that imports them later gets the real modules. Called from the settings, the first of our
modules every process loads (bench/web_rss.py measures the effect; ADR 0014, addendum on memory)."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def import_without(module: str, *optional: str) -> ModuleType | None:
    """Import `module` with the `optional` modules hidden (absent from sys.modules' point of view).

    No effect when `module` is already imported or one of `optional` already is (then the library has,
    or can get, the real one). Returns the module, or None when it is not installed."""
    if module in sys.modules or any(name in sys.modules for name in optional):
        return sys.modules.get(module)
    for name in optional:
        sys.modules[name] = None  # type: ignore[assignment]  # `import name` raises ImportError
    try:
        return importlib.import_module(module)
    except ImportError:
        return None
    finally:
        for name in optional:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]


def import_alone(module: str) -> ModuleType | None:
    """Import the submodule `module` without running its package's __init__ (no effect when the package or
    the submodule is already imported). For django.test.signals, which django-ninja imports at startup for
    one signal (`setting_changed`, defined in django.core.signals): the django.test package would bring
    the test client, test cases, unittest and jinja2 (~8 MiB) into every web process. The submodule is
    the real one, registered under its name: importing the package later (tests) uses it as is."""
    package = module.rpartition(".")[0]
    if module in sys.modules or package in sys.modules:
        return sys.modules.get(module)
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    spec = importlib.util.spec_from_file_location(
        module, Path(spec.submodule_search_locations[0]) / f"{module.rpartition('.')[2]}.py"
    )
    if spec is None or spec.loader is None:
        return None
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[module] = loaded
    try:
        spec.loader.exec_module(loaded)
    except BaseException:
        del sys.modules[module]
        raise
    return loaded
