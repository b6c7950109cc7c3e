"""The tests every flow gets for free (issue 10, part 3): they read the routing
table, so a new flow is checked by declaring it, with no test of its own to add.

- every step a flow declares has a handler for what the user types there;
- every button action is a word (4+ letters, Telegram's grammar) with a handler,
  and every old code of a button already sent in chats reaches its action;
- only the main menu's command buttons ("cmd:<command>") route by prefix, and each
  names a command;
- every command is in /help and the command menus, in every language:
  tests/flows/test_declarations.py; every button a delivered screen shows reaches
  a handler: the flow harness (tests/flows/harness.py) checks it in every test.
"""

from __future__ import annotations

import re

from handlers.flows import load_flows
from handlers.routing import ROUTER, Steps

load_flows()

WORD = re.compile(r"[a-z][a-z0-9_]{3,15}")
COMMAND_BUTTONS = "cmd"  # handlers/flows/menu.py: the menu's buttons run a command


def test_every_declared_step_has_a_handler():
    missing = [
        f"{flow}/{member.value}"
        for flow, steps in Steps.declared().items()
        if steps.__module__.startswith("handlers.flows.")  # not the tests' own flows
        for member in steps
        if (flow, member.value) not in ROUTER.steps
    ]
    assert missing == [], "a user typing at these steps would lose the conversation"


def test_every_button_action_is_a_word_with_a_handler():
    assert ROUTER.actions
    short = [f"{p}:{a}" for p, a in ROUTER.actions if not WORD.fullmatch(a)]
    assert short == [], "actions are words of 4 to 16 letters, digits or _"


def test_every_old_code_reaches_its_action():
    for (prefix, code), action in ROUTER.old_actions.items():
        assert (prefix, action) in ROUTER.actions, f"{prefix}:{code} → {action}"
        assert ROUTER.find_button(prefix, code) is ROUTER.actions[(prefix, action)]


def test_only_the_menus_command_buttons_route_by_prefix():
    assert set(ROUTER.buttons) <= {COMMAND_BUTTONS}
    for route in ROUTER.menu_entries():
        assert ROUTER.find_button(COMMAND_BUTTONS, route.name) is not None
