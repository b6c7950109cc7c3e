"""Blocks and the services catalogue (issue 15): a seller and a buyer in a block, either
way, do not see each other's service cards — by deep link, inline, or an old button —
as the catalogue's search already leaves them out (domain/usecases/blocking.py's rule,
asked by domain/usecases/services.visible_service). Unblocked, the card is back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.entities import Block
from handlers.callbacks import encode
from tests.flows.harness import Harness
from tests.flows.test_catalog import _buys, _inline, seed
from tests.flows.test_offers import label
from tests.flows.test_post_job import client, freelancer


async def _block(h: Harness, blocker: int, blocked: int) -> None:
    async with h.db.uow() as uow:
        await uow.blocks.add(
            Block(
                blocker_id=blocker, blocked_id=blocked, created_at=datetime(2026, 3, 1, tzinfo=UTC)
            )
        )
        await uow.commit()


@pytest.mark.parametrize(("lang", "seller_blocks"), [("en", True), ("ru", False)])
async def test_a_blocked_sellers_card_does_not_open(h: Harness, lang: str, seller_blocks: bool):
    felix = await freelancer(h, "Felix")
    sid = await seed(h, felix, "Logo for a flower shop")
    clara = await client(h, "Clara", lang=lang)
    await h.send(clara, f"/start service_{sid}")
    assert len(_buys(h.last(clara), sid)) == 1  # before the block: the card, to buy

    if seller_blocks:
        await _block(h, felix.id, clara.id)
    else:
        await _block(h, clara.id, felix.id)
    gone = label("error.service_not_found", lang)
    await h.send(clara, f"/start service_{sid}")  # the deep link
    assert h.last(clara).text == gone and not _buys(h.last(clara), sid)
    await h.press_data(clara, encode("cat", "show", sid))  # an old result's button
    assert h.last_answer(clara).text == gone
    answer = await _inline(h, clara, "service logo")  # inline: left out
    assert f"service_{sid}" not in [r.id for r in answer.results]
    await h.press_data(clara, encode("ord", "purchase", sid, "basic"))  # buying: refused
    assert not await _orders(h)
    # The seller still sees their own card; someone else still sees it.
    await h.send(felix, f"/start service_{sid}")
    assert "Logo for a flower shop" in h.last(felix).text
    olga = await client(h, "Olga")
    await h.send(olga, f"/start service_{sid}")
    assert len(_buys(h.last(olga), sid)) == 1
    assert f"service_{sid}" in [r.id for r in (await _inline(h, olga, "service logo")).results]

    async with h.db.uow() as uow:  # unblocked: the card is back
        for b in await uow.blocks.find(order_by=""):
            await uow.blocks.delete(b)
        await uow.commit()
    await h.send(clara, f"/start service_{sid}")
    assert len(_buys(h.last(clara), sid)) == 1


async def _orders(h: Harness) -> list[object]:
    async with h.db.uow() as uow:
        return list(await uow.service_orders.find())
