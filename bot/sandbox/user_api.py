"""JSON routes under /sandbox/api/ through which the web page acts as users.

    GET  /sandbox/api/config                      bot, admin_user_ids
    GET  /sandbox/api/users                       list users
    POST /sandbox/api/users                       {id?, first_name, username?, language_code?}
    POST /sandbox/api/users/{user_id}/language    {language_code}: the user's app language
    GET  /sandbox/api/updates?since=G&timeout=S&chats=ID,ID   {version, chats: [chat view]}:
                                                  the chats (default: every user's) whose
                                                  version is above G; long-polls while there
                                                  are none (S seconds, default 25). Without
                                                  since: all of them at once. The page's one poll.
    GET  /sandbox/api/chats/{user_id}?since=V&timeout=S   chat view; long-polls while
                                                  version <= since (S seconds, default 25)
    POST /sandbox/api/chats/{user_id}/messages    {text}   (commands get bot_command entities)
    POST /sandbox/api/chats/{user_id}/documents   multipart: file, caption?
    POST /sandbox/api/chats/{user_id}/callbacks   {message_id, data}  -> the press
    GET  /sandbox/api/callbacks/{query_id}?timeout=S  the press, once answered (or as is)
    POST /sandbox/api/chats/{user_id}/block | /unblock
    GET  /sandbox/api/chats/{user_id}/commands?language_code=L   the command menu this user
                                                  sees (in L, default their app's language)
    GET  /sandbox/api/files/{file_id}             download any stored file
    POST /sandbox/api/chats/{user_id}/inline      {query, offset?}: "@bot query" typed in the
                                                  user's chat -> the inline query (inline.py)
    GET  /sandbox/api/inline/{query_id}?timeout=S the query, once answered (or as is)
    POST /sandbox/api/inline/{query_id}/choose    {result_id}: the result posted, "via @bot"
    GET  /sandbox/api/chats/{user_id}/invoices/{message_id}   an invoice's price lines
    POST /sandbox/api/chats/{user_id}/invoices/{message_id}/pay   Pay on the payment sheet:
                                                  the pre-checkout query (payments.py)
    GET  /sandbox/api/pre_checkouts/{query_id}?timeout=S  it, once answered (or as is)

Errors are {"error": "..."} with 400/404.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from bot.sandbox.emulator import Emulator

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PREFIX = "/sandbox/api"
MAX_WAIT = 55.0


def _fail(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _guard(handler: Handler) -> Handler:
    """Turn bad input into a JSON 400/404 rather than a 500 page."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except KeyError as exc:
            return _fail(404, str(exc.args[0]) if exc.args else "not found")
        except (ValueError, TypeError) as exc:
            return _fail(400, str(exc))

    return wrapped


async def _json(request: web.Request) -> dict[str, Any]:
    body = await request.json() if request.can_read_body else {}
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")
    return body


def user_routes(emu: Emulator) -> list[web.RouteDef]:
    def user_id(request: web.Request) -> int:
        uid = int(request.match_info["user_id"])
        emu.user(uid)  # 404 for unknown users
        return uid

    async def config(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "bot": emu.bot_user,
                "admin_user_ids": emu.admin_user_ids,
                "inline_placeholder": emu.inline.placeholder,
            }
        )

    async def list_users(request: web.Request) -> web.Response:
        return web.json_response([u.to_telegram() for u in emu.users.values()])

    async def create_user(request: web.Request) -> web.Response:
        body = await _json(request)
        first_name = str(body.get("first_name") or "").strip()
        if not first_name:
            raise ValueError("first_name is required")
        raw_id = body.get("id")
        if raw_id is not None and int(raw_id) in emu.users:
            return web.json_response(emu.users[int(raw_id)].to_telegram())  # idempotent
        user = emu.add_user(
            first_name,
            user_id=int(raw_id) if raw_id is not None else None,
            username=body.get("username") or None,
            language_code=body.get("language_code") or "en",
        )
        return web.json_response(user.to_telegram(), status=201)

    async def set_language(request: web.Request) -> web.Response:
        body = await _json(request)
        code = str(body.get("language_code") or "").strip().lower()
        if code and not code.replace("-", "").isalpha():
            raise ValueError("language_code must be a language tag like 'en' or 'ru'")
        return web.json_response(emu.set_language(user_id(request), code or None).to_telegram())

    async def chat(request: web.Request) -> web.Response:
        uid = user_id(request)
        since = request.query.get("since")
        if since is not None:
            wait = min(float(request.query.get("timeout", 25)), MAX_WAIT)
            await emu.wait_for_chat_change(uid, int(since), wait)
        return web.json_response(emu.chat_view(uid))

    async def updates(request: web.Request) -> web.Response:
        # One long-poll for every column: a browser opens at most 6 connections per host,
        # so one poll per chat would leave the page's own POSTs queued behind them.
        # Chat versions are stamped from the emulator's global change counter (touch()),
        # so "version > G" finds every chat changed since the answer that returned G.
        raw_ids = request.query.get("chats")
        if raw_ids is None:
            chat_ids = list(emu.users)
        else:
            chat_ids = [int(part) for part in raw_ids.split(",") if part.strip()]
            for uid in chat_ids:
                emu.user(uid)  # 404 for unknown users
        raw_since = request.query.get("since")
        since = int(raw_since) if raw_since is not None else -1

        def changed() -> list[int]:
            return [uid for uid in chat_ids if emu.chats[uid].version > since]

        if raw_since is not None:
            wait = min(float(request.query.get("timeout", 25)), MAX_WAIT)
            try:
                await emu.wait_for(lambda: changed() or emu.closing, wait)
            except TimeoutError:
                pass
        return web.json_response(
            {"version": emu.changes.version, "chats": [emu.chat_view(uid) for uid in changed()]}
        )

    async def send_message(request: web.Request) -> web.Response:
        body = await _json(request)
        msg = emu.send_text(user_id(request), str(body.get("text", "")))
        return web.json_response(msg, status=201)

    async def send_document(request: web.Request) -> web.Response:
        uid = user_id(request)
        post = await request.post()
        upload = post.get("file")
        if not isinstance(upload, web.FileField):
            raise ValueError("a multipart 'file' field is required")
        caption = post.get("caption")
        msg = emu.send_document(
            uid,
            upload.file.read(),
            upload.filename or "file",
            upload.content_type,
            caption if isinstance(caption, str) and caption else None,
        )
        return web.json_response(msg, status=201)

    async def press(request: web.Request) -> web.Response:
        body = await _json(request)
        result = emu.press_button(
            user_id(request), int(body["message_id"]), body.get("data"), text=body.get("text")
        )
        return web.json_response(result.to_json(), status=201)

    async def callback(request: web.Request) -> web.Response:
        press = emu.callbacks[request.match_info["query_id"]]
        wait = min(float(request.query.get("timeout", 0)), MAX_WAIT)
        if wait > 0:
            try:
                await emu.wait_for(lambda: press.answered or emu.closing, wait)
            except TimeoutError:
                pass
        return web.json_response(press.to_json())

    async def inline_query(request: web.Request) -> web.Response:
        body = await _json(request)
        asked = emu.inline_query(
            user_id(request), str(body.get("query", "")), offset=str(body.get("offset") or "")
        )
        return web.json_response(asked.to_json(), status=201)

    async def inline_answer(request: web.Request) -> web.Response:
        asked = emu.inline.queries[request.match_info["query_id"]]
        wait = min(float(request.query.get("timeout", 0)), MAX_WAIT)
        if wait > 0:
            try:
                await emu.wait_for(lambda: asked.answered or emu.closing, wait)
            except TimeoutError:
                pass
        return web.json_response(asked.to_json())

    async def inline_choose(request: web.Request) -> web.Response:
        body = await _json(request)
        asked = emu.inline.queries[request.match_info["query_id"]]
        msg = emu.choose_inline_result(asked.user_id, asked.id, str(body.get("result_id", "")))
        return web.json_response(msg, status=201)

    async def invoice(request: web.Request) -> web.Response:
        uid = user_id(request)
        found = emu.payments.invoice(uid, int(request.match_info["message_id"]))
        msg = emu.chats[uid].messages[found.message_id]
        return web.json_response(
            {**msg["invoice"], "prices": found.prices, "message_id": found.message_id}
        )

    async def pay_invoice(request: web.Request) -> web.Response:
        asked = emu.pay_invoice(user_id(request), int(request.match_info["message_id"]))
        return web.json_response(asked.to_json(), status=201)

    async def pre_checkout(request: web.Request) -> web.Response:
        asked = emu.payments.pre_checkouts[request.match_info["query_id"]]
        wait = min(float(request.query.get("timeout", 0)), MAX_WAIT)
        if wait > 0:
            try:
                await emu.wait_for(lambda: asked.answered or emu.closing, wait)
            except TimeoutError:
                pass
        return web.json_response(asked.to_json())

    async def block(request: web.Request) -> web.Response:
        emu.block_bot(user_id(request))
        return web.json_response(emu.chat_view(user_id(request)))

    async def unblock(request: web.Request) -> web.Response:
        emu.unblock_bot(user_id(request))
        return web.json_response(emu.chat_view(user_id(request)))

    async def commands(request: web.Request) -> web.Response:
        lang = request.query.get("language_code") or None
        return web.json_response(emu.commands_for(user_id(request), lang))

    async def download(request: web.Request) -> web.Response:
        stored = emu.files[request.match_info["file_id"]]
        headers = {}
        if stored.file_name:
            headers["Content-Disposition"] = f'inline; filename="{stored.file_name}"'
        return web.Response(
            body=stored.data,
            content_type=stored.mime_type or "application/octet-stream",
            headers=headers,
        )

    p = PREFIX
    return [
        web.get(f"{p}/config", _guard(config)),
        web.get(f"{p}/users", _guard(list_users)),
        web.post(f"{p}/users", _guard(create_user)),
        web.post(f"{p}/users/{{user_id}}/language", _guard(set_language)),
        web.get(f"{p}/updates", _guard(updates)),
        web.get(f"{p}/chats/{{user_id}}", _guard(chat)),
        web.post(f"{p}/chats/{{user_id}}/messages", _guard(send_message)),
        web.post(f"{p}/chats/{{user_id}}/documents", _guard(send_document)),
        web.post(f"{p}/chats/{{user_id}}/callbacks", _guard(press)),
        web.post(f"{p}/chats/{{user_id}}/block", _guard(block)),
        web.post(f"{p}/chats/{{user_id}}/unblock", _guard(unblock)),
        web.get(f"{p}/chats/{{user_id}}/commands", _guard(commands)),
        web.get(f"{p}/callbacks/{{query_id}}", _guard(callback)),
        web.get(f"{p}/files/{{file_id}}", _guard(download)),
        web.post(f"{p}/chats/{{user_id}}/inline", _guard(inline_query)),
        web.get(f"{p}/inline/{{query_id}}", _guard(inline_answer)),
        web.post(f"{p}/inline/{{query_id}}/choose", _guard(inline_choose)),
        web.get(f"{p}/chats/{{user_id}}/invoices/{{message_id}}", _guard(invoice)),
        web.post(f"{p}/chats/{{user_id}}/invoices/{{message_id}}/pay", _guard(pay_invoice)),
        web.get(f"{p}/pre_checkouts/{{query_id}}", _guard(pre_checkout)),
    ]
