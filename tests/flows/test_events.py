"""The domain events (domain/events.py) and their renderers (handlers/notify.py):
every event is either rendered or says why nobody is told, and every renderer is
registered for an event class of the catalogue."""

from __future__ import annotations

import dataclasses

import pytest

from domain import events
from domain.events import EVENTS, Event
from handlers.flows import load_flows
from handlers.notify import RENDERERS, renders


@pytest.fixture(scope="module", autouse=True)
def flows() -> None:
    load_flows()


def _catalogue_renderers() -> dict[type[Event], list]:
    """The renderers of the application (not those the tests register for their own
    event classes)."""
    return {cls: fns for cls, fns in RENDERERS.items() if not cls.__module__.startswith("tests.")}


def test_every_event_is_rendered_or_declared_silent() -> None:
    rendered = _catalogue_renderers()
    forgotten = [cls.__name__ for cls in EVENTS.values() if cls not in rendered and not cls.silent]
    assert forgotten == [], f"events with no renderer and no `silent` reason: {forgotten}"


def test_a_silent_event_has_no_renderer() -> None:
    rendered = _catalogue_renderers()
    both = [cls.__name__ for cls in EVENTS.values() if cls.silent and cls in rendered]
    assert both == [], f"declared silent but rendered: {both}"


def test_every_renderer_is_for_an_event_class_of_the_catalogue() -> None:
    strays = [cls for cls in _catalogue_renderers() if cls not in EVENTS.values()]
    assert strays == []
    assert all(fns for fns in RENDERERS.values())


def test_a_renderer_for_a_kind_string_is_refused() -> None:
    with pytest.raises(TypeError):
        renders("milestone_funded")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        renders(Event)  # the base: no kind


def test_the_catalogue_is_every_event_class_with_its_own_kind() -> None:
    declared = [
        obj
        for obj in vars(events).values()
        if isinstance(obj, type) and issubclass(obj, Event) and vars(obj).get("kind")
    ]
    assert sorted(c.__name__ for c in declared) == sorted(c.__name__ for c in EVENTS.values())
    assert all(kind == cls.kind for kind, cls in EVENTS.items())
    for cls in EVENTS.values():
        params = cls.__dataclass_params__  # type: ignore[attr-defined]
        assert params.frozen and dataclasses.fields(cls), cls.__name__
