"""Accounts: registration from Telegram data, roles, language, bans."""

from __future__ import annotations

from collections.abc import Collection

from domain.config import MarketConfig
from domain.entities import User
from domain.errors import NotAllowed, ValidationError
from domain.events import UserBanned, UserRegistered, UserUnbanned
from domain.ports import Clock, UnitOfWork
from domain.usecases.common import audit, load, require_admin

# Languages the bot speaks; the handlers pass their catalogs' list when it differs.
SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "ru", "es")
DEFAULT_LANGUAGE = "en"
ROLES = ("client", "freelancer")
MAX_NAME = 256
MAX_USERNAME = 64
MAX_REASON = 500


def pick_language(
    language_code: str | None, supported: Collection[str] = SUPPORTED_LANGUAGES
) -> str:
    """Telegram's IETF tag ("pt-br", "en-US") reduced to a supported language, else English."""
    base = (language_code or "").strip().lower().replace("_", "-").split("-")[0]
    return base if base in supported else DEFAULT_LANGUAGE


async def register_user(
    uow: UnitOfWork,
    clock: Clock,
    actor_id: int,
    name: str = "",
    username: str | None = None,
    language_code: str | None = None,
    supported: Collection[str] = SUPPORTED_LANGUAGES,
) -> tuple[User, bool]:
    """Create the user on first contact, or refresh name/username; (user, created).

    The language is taken from Telegram only when the user is new: a language
    the user chose later must not be overwritten by the client app's setting.
    Works for banned users too (their name stays current); callers refuse them.
    """
    now = clock.now()
    name = (name or "").strip()[:MAX_NAME]
    username = (username or "").strip().lstrip("@")[:MAX_USERNAME] or None
    user = await uow.users.get_for_update(actor_id)
    if user is None:
        user = await uow.users.add(
            User(
                id=actor_id,
                name=name,
                username=username,
                language=pick_language(language_code, supported),
                created_at=now,
                last_active_at=now,
            )
        )
        uow.emit(UserRegistered(user_id=actor_id))
        return user, True
    if name:
        user.name = name
    user.username = username
    user.last_active_at = now
    # A user who blocked the bot and writes again is reachable again.
    user.unreachable = False
    return user, False


async def set_roles(
    uow: UnitOfWork, clock: Clock, actor_id: int, client: bool, freelancer: bool
) -> User:
    """Client, freelancer or both; at least one."""
    if not (client or freelancer):
        raise ValidationError("roles_none", "Choose at least one role: client or freelancer.")
    user = await load(uow.users, actor_id, "user", lock=True)
    if user.banned:
        raise NotAllowed("user_banned", "Your account is suspended.")
    user.is_client, user.is_freelancer = client, freelancer
    user.last_active_at = clock.now()
    return user


async def add_role(uow: UnitOfWork, clock: Clock, actor_id: int, role: str) -> User:
    """Add one role and keep the other as it is ("I want to hire too")."""
    if role not in ROLES:
        raise ValidationError("role_unknown", "The role is client or freelancer.", role=role)
    user = await load(uow.users, actor_id, "user")
    return await set_roles(
        uow,
        clock,
        actor_id,
        client=user.is_client or role == "client",
        freelancer=user.is_freelancer or role == "freelancer",
    )


async def set_language(
    uow: UnitOfWork,
    clock: Clock,
    actor_id: int,
    language: str,
    supported: Collection[str] = SUPPORTED_LANGUAGES,
) -> User:
    code = (language or "").strip().lower()
    if code not in supported:
        raise ValidationError(
            "language_unsupported",
            f"Supported languages: {', '.join(supported)}.",
            language=code,
        )
    user = await load(uow.users, actor_id, "user", lock=True)
    user.language = code
    user.last_active_at = clock.now()
    return user


async def set_unreachable(uow: UnitOfWork, user_id: int, unreachable: bool = True) -> None:
    """The user blocked (403) or unblocked the bot; no notifications while blocked."""
    user = await uow.users.get_for_update(user_id)
    if user is not None:
        user.unreachable = unreachable


async def ban_user(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    actor_id: int,
    user_id: int,
    reason: str = "",
) -> User:
    """Admin only; audited. A banned user can do nothing but read."""
    require_admin(config, actor_id)
    if user_id == actor_id or config.is_admin(user_id):
        raise NotAllowed("ban_admin", "An admin cannot be banned.")
    user = await load(uow.users, user_id, "user", lock=True)
    if user.banned:
        raise ValidationError("already_banned", "This user is already banned.", user_id=user_id)
    user.banned = True
    user.ban_reason = (reason or "").strip()[:MAX_REASON] or None
    await audit(uow, clock, actor_id, "ban", f"user:{user_id}", reason=user.ban_reason)
    uow.emit(UserBanned(user_id=user_id, reason=user.ban_reason))
    return user


async def unban_user(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int, user_id: int
) -> User:
    require_admin(config, actor_id)
    user = await load(uow.users, user_id, "user", lock=True)
    if not user.banned:
        raise ValidationError("not_banned", "This user is not banned.", user_id=user_id)
    user.banned = False
    user.ban_reason = None
    await audit(uow, clock, actor_id, "unban", f"user:{user_id}")
    uow.emit(UserUnbanned(user_id=user_id))
    return user
