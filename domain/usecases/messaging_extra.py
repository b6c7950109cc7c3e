"""What the messaging flow needs around domain.usecases.messaging.send_message
(which sends, flags contact details before a contract and emits "message_sent"):

- writing on a contract only while it is open for messages (offered, countered,
  active or ended — not declined, withdrawn or expired);
- the client writing to the freelancer of a pitch on the client's job;
- answering a message one received (on its contract, or about its job);
- the record of a contract's messages, for its parties.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.entities import Contract, ContractMessage, Pitch
from domain.errors import NotAllowed
from domain.ports import Clock, UnitOfWork
from domain.states import ContractStatus
from domain.usecases.common import active_user, load, require_party
from domain.usecases.messaging import send_message

# A contract one can still write on; declined, withdrawn and expired offers are closed.
WRITABLE = frozenset(
    {ContractStatus.OFFERED, ContractStatus.COUNTERED, ContractStatus.ACTIVE, ContractStatus.ENDED}
)


async def writable_contract(uow: UnitOfWork, actor_id: int, contract_id: int) -> Contract:
    """The contract, if the actor is a party and it is open for messages."""
    await active_user(uow, actor_id)
    contract = await load(uow.contracts, contract_id, "contract")
    require_party(contract, actor_id)
    if contract.status not in WRITABLE:
        raise NotAllowed("contract_closed", "This contract is closed for messages.")
    return contract


async def pitch_for_message(uow: UnitOfWork, actor_id: int, pitch_id: int) -> Pitch:
    """A pitch on the actor's own job (the client writes to its freelancer)."""
    await active_user(uow, actor_id)
    pitch = await load(uow.pitches, pitch_id, "pitch")
    job = await load(uow.jobs, pitch.job_id, "job")
    if job.client_id != actor_id:
        raise NotAllowed("not_your_job", "This job is not yours.")
    return pitch


async def reply_target(uow: UnitOfWork, actor_id: int, message_id: int) -> ContractMessage:
    """A message the actor received and may answer."""
    await active_user(uow, actor_id)
    original = await load(uow.messages, message_id, "message")
    if original.recipient_id != actor_id:
        raise NotAllowed("not_your_message", "This message was not sent to you.")
    if original.contract_id is not None:
        await writable_contract(uow, actor_id, original.contract_id)
    elif original.job_id is None:
        raise NotAllowed("not_your_message", "This message was not sent to you.")
    return original


async def reply(
    uow: UnitOfWork,
    clock: Clock,
    actor_id: int,
    message_id: int,
    text: str,
    files: Sequence[str] = (),
) -> ContractMessage:
    """Answer a received message: on its contract, or before a contract about its job."""
    original = await reply_target(uow, actor_id, message_id)
    if original.contract_id is not None:
        return await send_message(
            uow, clock, actor_id, text, files, contract_id=original.contract_id
        )
    return await send_message(
        uow, clock, actor_id, text, files, job_id=original.job_id, recipient_id=original.sender_id
    )


async def to_contract(
    uow: UnitOfWork,
    clock: Clock,
    actor_id: int,
    contract_id: int,
    text: str,
    files: Sequence[str] = (),
) -> ContractMessage:
    """Write on a contract that is open for messages (not declined, withdrawn or expired)."""
    await writable_contract(uow, actor_id, contract_id)
    return await send_message(uow, clock, actor_id, text, files, contract_id=contract_id)


async def to_pitch(
    uow: UnitOfWork,
    clock: Clock,
    actor_id: int,
    pitch_id: int,
    text: str,
    files: Sequence[str] = (),
) -> ContractMessage:
    """The client writes to the freelancer of a pitch on the client's job."""
    pitch = await pitch_for_message(uow, actor_id, pitch_id)
    return await send_message(
        uow, clock, actor_id, text, files, job_id=pitch.job_id, recipient_id=pitch.freelancer_id
    )


async def contract_history(
    uow: UnitOfWork, actor_id: int, contract_id: int
) -> tuple[Contract, list[ContractMessage]]:
    """The record of a contract's messages, oldest first (parties only)."""
    await active_user(uow, actor_id)
    contract = await load(uow.contracts, contract_id, "contract")
    require_party(contract, actor_id)
    return contract, await uow.messages.find(order_by="id", contract_id=contract_id)
