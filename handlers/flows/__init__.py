"""One module per flow. Each registers its steps on handlers.routing.ROUTER and its
notification renderers on handlers.notify when imported; `load_flows()` imports
every module in this package, so adding a flow is adding a file here."""

from __future__ import annotations

import importlib
import pkgutil


def load_flows() -> list[str]:
    """Import every flow module once (idempotent); returns their names."""
    names = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        importlib.import_module(f"{__name__}.{info.name}")
        names.append(info.name)
    return names
