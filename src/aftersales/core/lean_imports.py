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
import importlib.abc
import importlib.util
import sys
import threading
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType
from typing import Any


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


class _WithoutWhenImported(importlib.abc.MetaPathFinder):
    """import_without(module, *optional) run by the first import of `module`, wherever it happens."""

    def __init__(self, module: str, optional: Sequence[str]) -> None:
        self.module = module
        self.optional = tuple(optional)
        self.lock = threading.Lock()

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        if fullname != self.module:
            return None
        with self.lock:  # once: the first import finds the real spec and wraps its loader
            if self not in sys.meta_path:
                return None
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _HidingLoader(spec.loader, self.optional)
        return spec


class _HidingLoader(importlib.abc.Loader):
    """Runs the real loader with the optional modules looking absent (then puts them back, and leaves the
    real loader on the module)."""

    def __init__(self, loader: Any, optional: tuple[str, ...]) -> None:
        self.loader = loader
        self.optional = optional

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)  # type: ignore[no-any-return]

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self.loader
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        hidden = [name for name in self.optional if name not in sys.modules]
        for name in hidden:
            sys.modules[name] = None  # type: ignore[assignment]
        try:
            self.loader.exec_module(module)
        finally:
            for name in hidden:
                if sys.modules.get(name, 0) is None:
                    del sys.modules[name]


def import_without_when_imported(module: str, *optional: str) -> None:
    """import_without(module, *optional), deferred to the first time anything imports `module`: the
    process that never uses the library does not load it at all (httpx: ~7 MiB RSS in a web worker that
    sends nothing). No effect when `module` or one of `optional` is already imported."""
    if module in sys.modules or any(name in sys.modules for name in optional):
        return
    if not any(isinstance(f, _WithoutWhenImported) and f.module == module for f in sys.meta_path):
        sys.meta_path.insert(0, _WithoutWhenImported(module, optional))


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
