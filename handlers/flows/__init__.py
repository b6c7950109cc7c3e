"""One module per flow. Each registers its steps on handlers.routing.ROUTER and its
notification renderers on handlers.notify when imported; `load_flows()` imports
every module in this package, so adding a flow is adding a file here."""

from __future__ import annotations

import importlib
import pkgutil

_LOADED: list[str] = []  # the names, once imported


def load_flows() -> list[str]:
    """Import every flow module once (idempotent); returns their names. Called on
    every unit of work's rendering and every command list: after the first call it
    answers from memory (scanning the package's folder cost ~1 ms each time)."""
    if _LOADED:
        return list(_LOADED)
    names = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        importlib.import_module(f"{__name__}.{info.name}")
        names.append(info.name)
    _LOADED.extend(names)
    return names
