"""Turning things into Telegram HTML: escaping, splitting, keyboards, cards, money.

Every text the bot sends is parse_mode HTML. User-supplied text goes through
`esc()` (or is passed as a translation parameter, which escapes it); markup we
built ourselves is wrapped in `Html` so it is not escaped twice.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Protocol

from domain.money import Money
from handlers.events import Button, Keyboard
from handlers.taxonomy_names import category_name, skill_names

if TYPE_CHECKING:
    from domain.entities import Job
    from domain.usecases.track_record import ClientRecord

MESSAGE_LIMIT = 4096  # Telegram: characters of a message
CAPTION_LIMIT = 1024
BUTTON_TEXT_LIMIT = 64  # longer labels are cut by clients; keep them short
ELLIPSIS = "…"


class Html(str):
    """A string that is already safe HTML (built by us, with user parts escaped)."""

    __slots__ = ()

    def __add__(self, other: str) -> Html:
        return Html(str.__add__(self, other if isinstance(other, Html) else esc(other)))


def esc(text: object) -> Html:
    """Escape user text for parse_mode HTML (& < > and quotes)."""
    if isinstance(text, Html):
        return text
    return Html(html.escape("" if text is None else str(text), quote=True))


def join(parts: Iterable[str], sep: str = "\n") -> Html:
    """Join pieces of HTML; plain strings among them are escaped."""
    return Html(esc(sep).join(esc(p) for p in parts))


def bold(text: object) -> Html:
    return Html(f"<b>{esc(text)}</b>")


def italic(text: object) -> Html:
    return Html(f"<i>{esc(text)}</i>")


def code(text: object) -> Html:
    return Html(f"<code>{esc(text)}</code>")


def money(amount: int, currency: str) -> str:
    """Minor units to text, e.g. 125050 USD → "$1,250.50" (the one money format)."""
    return Money(amount, currency).format()


def utf16_len(text: str) -> int:
    """Telegram counts message length in UTF-16 code units (an emoji may count as 2)."""
    return len(text.encode("utf-16-le")) // 2


# --- splitting ---------------------------------------------------------------

_TOKEN = re.compile(r"<[^<>]*>|&#?[A-Za-z0-9]+;|[^<&]+|[<&]", re.S)
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)[^<>]*>")


def _tokens(text: str) -> list[str]:
    """Tags and entities stay whole; text is split into single characters later."""
    out: list[str] = []
    for tok in _TOKEN.findall(text):
        if len(tok) > 1 and tok[0] in "<&":
            out.append(tok)
        else:
            out.extend(tok)
    return out


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[Html]:
    """Split HTML into messages of at most `limit` UTF-16 units each.

    Cuts at the last line break that fits (else the last space, else anywhere
    between characters), never inside a tag or an entity; tags open at the
    cut are closed at the end of one part and reopened at the start of the next.
    """
    if utf16_len(text) <= limit:
        return [Html(text)]
    tokens = _tokens(text)
    parts: list[Html] = []
    stack: list[tuple[str, str]] = []  # (name, opening tag) of the tags open here
    i = 0
    while i < len(tokens):
        prefix = "".join(opening for _, opening in stack)
        size = utf16_len(prefix)
        local = list(stack)
        cuts: dict[int, tuple[int, list[tuple[str, str]]]] = {}  # rank -> (end, stack)
        j = i
        while j < len(tokens):
            tok = tokens[j]
            after = _after(local, tok)
            if size + utf16_len(tok) + utf16_len(_closing(after)) > limit:
                break
            size += utf16_len(tok)
            local = after
            j += 1
            rank = 2 if tok == "\n" else 1 if tok == " " else 0
            if rank == 0 or size > limit // 2:  # a break too early makes a stub part
                cuts[rank] = (j, local)
        if j >= len(tokens):
            parts.append(Html(prefix + "".join(tokens[i:]) + _closing(local)))
            break
        if not cuts or j == i:
            raise ValueError("limit too small to split this text")
        end, end_stack = cuts[max(cuts)]
        parts.append(Html(prefix + "".join(tokens[i:end]) + _closing(end_stack)))
        stack, i = end_stack, end
    return [p for p in parts if _visible(p)] or [Html(ELLIPSIS)]


def _after(stack: list[tuple[str, str]], tok: str) -> list[tuple[str, str]]:
    """The open-tag stack after `tok`."""
    m = _TAG.fullmatch(tok)
    if not m:
        return stack
    name = m.group(2).lower()
    if m.group(1):
        return stack[:-1] if stack and stack[-1][0] == name else stack
    return [*stack, (name, tok)]


def _closing(stack: list[tuple[str, str]]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(stack))


def _visible(part: str) -> bool:
    return bool(re.sub(r"<[^<>]*>", "", part).strip())


def trim(text: str, limit: int = MESSAGE_LIMIT) -> Html:
    """The first part of `text` that fits in `limit`, with an ellipsis if anything was cut."""
    if utf16_len(text) <= limit:
        return Html(text)
    first = split_message(text, limit - 1)[0]
    # Put the ellipsis before the closing tags at the end of the part.
    m = re.search(r"(?:</[A-Za-z-]+>)*$", first)
    cut = m.start() if m else len(first)
    return Html(first[:cut].rstrip() + ELLIPSIS + first[cut:])


def shorten(text: str, limit: int) -> str:
    """Plain text cut to `limit` characters with an ellipsis (for labels and previews)."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


# --- keyboards ---------------------------------------------------------------


def button(text: str, data: str) -> Button:
    """A callback button; `text` is plain (Telegram shows it as is), `data` from callbacks.encode."""
    return {"text": shorten(text, BUTTON_TEXT_LIMIT), "data": data}


def url_button(text: str, url: str) -> Button:
    return {"text": shorten(text, BUTTON_TEXT_LIMIT), "url": url}


def rows(buttons: Sequence[Button], width: int = 2) -> Keyboard:
    """Lay buttons out `width` to a row."""
    return [list(buttons[k : k + width]) for k in range(0, len(buttons), width)]


def keyboard(*rows_: Sequence[Button] | Button | None) -> Keyboard | None:
    """keyboard(row1, row2, …): a row is a list of buttons or one button; None rows are skipped."""
    out: Keyboard = []
    for row in rows_:
        if row is None:
            continue
        row_list = [row] if isinstance(row, dict) else [b for b in row if b]
        if row_list:
            out.append(row_list)
    return out or None


def pagination_row(
    page: int,
    pages: int,
    data_for: Callable[[int], str],
    prev: str = "‹ Prev",
    next_: str = "Next ›",
) -> list[Button]:
    """ "‹ Prev · 2/5 · Next ›": pages are 1-based; `data_for(page)` makes the callback data.

    Pass translated labels: prev=t.plain("btn.prev"), next_=t.plain("btn.next").
    The middle button only shows where you are; its data points at the current page.
    """
    if pages <= 1:
        return []
    row: list[Button] = []
    if page > 1:
        row.append(button(prev, data_for(page - 1)))
    row.append(button(f"{page}/{pages}", data_for(page)))
    if page < pages:
        row.append(button(next_, data_for(page + 1)))
    return row


# --- cards -------------------------------------------------------------------

DESCRIPTION_PREVIEW = 1500


class CardTranslator(Protocol):
    """What job_card needs of handlers.i18n.Translator (imported there, not here)."""

    def __call__(self, key: str, **params: object) -> Html: ...

    def plain(self, key: str, **params: object) -> str: ...

    lang: str


def job_card(
    job: Job, t: CardTranslator, full: bool = True, client: ClientRecord | None = None
) -> Html:
    """A job as a message: title, budget, category, skills, deadline, the client's
    track record (when given: handlers/track_record.py), description.

    `t` is a translator (Context.t); categories and skills are shown by their
    translated names (free tags as typed); every field from the client is escaped.
    A job without an id (the wizard's preview) shows neither status nor id.
    """
    budget = money(job.budget, job.currency)
    lines = [
        Html(f"💼 {bold(job.title)}"),
        t(
            "job.card.budget_hourly" if job.budget_type == "hourly" else "job.card.budget_fixed",
            amount=budget,
        ),
    ]
    if job.category:
        lines.append(t("job.card.category", category=category_name(t, job.category)))
    if job.skills:
        lines.append(t("job.card.skills", skills=skill_names(t, job.skills)))
    if job.deadline:
        lines.append(t("job.card.deadline", date=job.deadline.isoformat()))
    if job.id is not None:  # a job not yet published (a preview) has no status to show
        lines.append(t("job.card.status", status=t(f"job.status.{job.status}")))
    if client is not None:
        from handlers.track_record import client_record  # it builds on this module

        lines.append(client_record(t, client))
    if job.description:
        description = job.description if full else shorten(job.description, 300)
        if len(description) > DESCRIPTION_PREVIEW:
            description = description[:DESCRIPTION_PREVIEW].rstrip() + ELLIPSIS
        lines.append(Html(""))
        lines.append(esc(description))
    if job.id is not None:
        lines.append(Html(""))
        lines.append(t("job.card.id", id=job.id))
    return join(lines)
