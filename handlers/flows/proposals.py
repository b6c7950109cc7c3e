"""A milestone proposed on a running contract (domain/usecases/proposals.py): the
other party is asked to accept or decline it; the proposer hears the answer, and
an accepted milestone goes to the client's funding (a Fund button).

The proposal itself is written with the offer wizard's "add" mode (flows/offers.py,
"of:add_milestone:<contract>", open to both parties).

Callback data (prefix "mp"):
- "mp:accept:<milestone>"   the other party accepts the proposed milestone
- "mp:decline:<milestone>"  or declines it
"""

from __future__ import annotations

from domain.entities import Contract, Milestone
from domain.events import MilestoneProposalDecided, MilestoneProposed
from domain.usecases import proposals as uc
from domain.usecases.common import load, other_party
from handlers.context import Context, Scope
from handlers.contract_views import open_contract_button
from handlers.events import Keyboard
from handlers.helpers import name_of
from handlers.i18n import Translator
from handlers.notify import milestone_rows, renders
from handlers.prefixes import FUND, PROPOSAL
from handlers.render import button, keyboard, money


def _due(milestone: Milestone) -> str:
    return milestone.due_date.isoformat() if milestone.due_date else "—"


def fund_keyboard(t: Translator, milestone: Milestone) -> Keyboard | None:
    return keyboard(
        button(t.plain("offers.btn.fund_now"), FUND.data("quote", milestone.id)),
        open_contract_button(t, milestone.contract_id),
    )


@renders(MilestoneProposed, load=milestone_rows)
async def milestone_proposed(
    scope: Scope, event: MilestoneProposed, milestone: Milestone, contract: Contract
) -> None:
    mid, cid = milestone.id, contract.id
    await scope.notify(
        other_party(contract, event.proposed_by),
        "proposal.notify.proposed",
        buttons=lambda t: keyboard(
            [
                button(t.plain("proposal.btn.accept"), PROPOSAL.data("accept", mid)),
                button(t.plain("proposal.btn.decline"), PROPOSAL.data("decline", mid)),
            ],
            open_contract_button(t, cid),  # type: ignore[arg-type]
        ),
        name=await name_of(scope, event.proposed_by),
        title=milestone.title,
        amount=money(milestone.amount, milestone.currency),
        date=_due(milestone),
        contract=contract.title,
    )


@renders(MilestoneProposalDecided, load=milestone_rows)
async def proposal_decided(
    scope: Scope, event: MilestoneProposalDecided, milestone: Milestone, contract: Contract
) -> None:
    to = event.proposed_by
    client_funds = event.accepted and to == contract.client_id
    await scope.notify(
        to,
        "proposal.notify.accepted" if event.accepted else "proposal.notify.declined",
        buttons=lambda t: (
            fund_keyboard(t, milestone)
            if client_funds
            else keyboard(open_contract_button(t, contract.id))  # type: ignore[arg-type]
        ),
        name=await name_of(scope, other_party(contract, to)),
        title=milestone.title,
        amount=money(milestone.amount, milestone.currency),
    )


async def _decide(ctx: Context, accept: bool) -> None:
    assert ctx.callback is not None
    milestone = await uc.decide_proposal(
        ctx.uow, ctx.clock, ctx.user.id, ctx.callback.require_id(), accept
    )
    contract = await load(ctx.uow.contracts, milestone.contract_id, "contract")
    t = ctx.t
    if not accept:
        await ctx.edit(
            t("proposal.declined_you", title=milestone.title),
            keyboard(open_contract_button(t, contract.id)),  # type: ignore[arg-type]
        )
    elif contract.client_id == ctx.user.id:  # the client accepted: fund it now
        await ctx.edit(
            t("proposal.accepted_client", title=milestone.title), fund_keyboard(t, milestone)
        )
    else:
        await ctx.edit(
            t("proposal.accepted_freelancer", title=milestone.title),
            keyboard(open_contract_button(t, contract.id)),  # type: ignore[arg-type]
        )
    ctx.answer()


@PROPOSAL.on("accept")
async def accept_pressed(ctx: Context) -> None:
    await _decide(ctx, accept=True)


@PROPOSAL.on("decline")
async def decline_pressed(ctx: Context) -> None:
    await _decide(ctx, accept=False)
