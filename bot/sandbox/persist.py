"""The sandbox's memory across restarts, as Telegram keeps it: users, chats, their history
(messages with their buttons, files), button presses, invoices, pending updates, the counters (update,
file and group ids; a chat's next message id) and the bot's settings (commands, menu
button, webhook).

Stored in a small SQLite file rather than a JSON dump: the history and the uploaded files
only grow, while one change touches a row or two, so each change is one short transaction
(written as it happens, not on exit: a killed process keeps what it had said) instead of a
rewrite of everything; an interrupted write leaves the previous state (SQLite's journal);
and sqlite3 is in the standard library. The writes are synchronous because the emulator's
state changes are (a local write of a few rows; WAL mode without a sync per commit).
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.sandbox.models import CallbackPress, Chat, SandboxUser, StoredFile
from bot.sandbox.payments import Invoice

if TYPE_CHECKING:
    from bot.sandbox.emulator import Emulator

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chats (id INTEGER PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
    chat_id INTEGER NOT NULL, message_id INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (chat_id, message_id)
);
CREATE TABLE IF NOT EXISTS files (file_id TEXT PRIMARY KEY, data TEXT NOT NULL, content BLOB);
CREATE TABLE IF NOT EXISTS callbacks (id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS updates (update_id INTEGER PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS invoices (
    chat_id INTEGER NOT NULL, message_id INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (chat_id, message_id)
);
"""
# A chat's fields kept; last_action is a passing "typing…" and not kept.
CHAT_FIELDS = ("id", "type", "title", "next_message_id", "version", "started", "blocked")


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """The fields a record still has (a file written by an older or newer sandbox loads)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in data.items() if k in names}


class SandboxStore:
    """One emulator's state file. `load(emu)` once, then `save(emu)` after every change."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: the explicit BEGIN/COMMIT below make each save one transaction.
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self._saved_meta = ""
        self._saved_counters = ""
        self._saved_updates: set[int] = set()

    def close(self) -> None:
        self.db.close()

    # -- reading ----------------------------------------------------------------------

    def load(self, emu: Emulator) -> None:
        db = self.db
        for (data,) in db.execute("SELECT data FROM users ORDER BY id"):
            user = SandboxUser(**_known(SandboxUser, json.loads(data)))
            emu.users[user.id] = user
        for (data,) in db.execute("SELECT data FROM chats ORDER BY id"):
            fields = json.loads(data)
            user_id = fields.pop("user_id", None)
            user = emu.users.get(user_id) if user_id is not None else None
            chat = Chat(**_known(Chat, fields), user=user)
            emu.chats[chat.id] = chat
        for chat_id, data in db.execute(
            "SELECT chat_id, data FROM messages ORDER BY chat_id, message_id"
        ):
            msg = json.loads(data)
            if chat_id in emu.chats:
                emu.chats[chat_id].messages[msg["message_id"]] = msg
        for data, content in db.execute("SELECT data, content FROM files ORDER BY rowid"):
            stored = StoredFile(**_known(StoredFile, json.loads(data)), data=bytes(content or b""))
            emu.files[stored.file_id] = stored
            emu.files_by_path[stored.file_path] = stored
        for (data,) in db.execute("SELECT data FROM callbacks ORDER BY rowid"):
            press = CallbackPress(**_known(CallbackPress, json.loads(data)))
            emu.callbacks[press.id] = press
        for (data,) in db.execute("SELECT data FROM invoices ORDER BY chat_id, message_id"):
            invoice = Invoice(**_known(Invoice, json.loads(data)))  # payable after a restart
            emu.payments.invoices[(invoice.chat_id, invoice.message_id)] = invoice
        for update_id, data in db.execute("SELECT update_id, data FROM updates ORDER BY 1"):
            emu.updates.append(json.loads(data))
            self._saved_updates.add(update_id)
        meta = dict(db.execute("SELECT key, value FROM meta"))
        if "settings" in meta:
            settings = json.loads(meta["settings"])
            emu.commands = {
                (scope, lang): commands for scope, lang, commands in settings["commands"]
            }
            emu.menu_buttons = {
                (None if key == "" else int(key)): button
                for key, button in settings["menu_buttons"].items()
            }
            emu.allowed_updates = settings["allowed_updates"]
            emu.webhook_url = settings["webhook_url"]
            emu.webhook_secret = settings["webhook_secret"]
            emu.webhook_max_connections = settings["webhook_max_connections"]
            self._saved_meta = meta["settings"]
        if "counters" in meta:
            counters = json.loads(meta["counters"])
            emu.next_update_id = counters["next_update_id"]
            emu.next_file_id = counters["next_file_id"]
            emu.next_group_id = counters["next_group_id"]
            emu.changes.version = counters["version"]
            self._saved_counters = meta["counters"]

    # -- writing ----------------------------------------------------------------------

    def save(self, emu: Emulator) -> None:
        """Write what changed since the last save (the emulator says which chats, messages,
        users, presses and files; settings, counters and pending updates are compared)."""
        db = self.db
        db.execute("BEGIN")
        try:
            for user_id in emu.dirty.users:
                user = emu.users.get(user_id)
                if user is not None:
                    db.execute(
                        "INSERT OR REPLACE INTO users VALUES (?, ?)",
                        (user_id, _dump(dataclasses.asdict(user))),
                    )
            for chat_id, message_ids in emu.dirty.chats.items():
                chat = emu.chats.get(chat_id)
                if chat is None:
                    continue
                fields = {name: getattr(chat, name) for name in CHAT_FIELDS}
                fields["user_id"] = chat.user.id if chat.user else None
                fields["reply_keyboard"] = chat.reply_keyboard
                db.execute("INSERT OR REPLACE INTO chats VALUES (?, ?)", (chat_id, _dump(fields)))
                for message_id in message_ids:
                    msg = chat.messages.get(message_id)
                    if msg is None:  # deleted
                        db.execute(
                            "DELETE FROM messages WHERE chat_id = ? AND message_id = ?",
                            (chat_id, message_id),
                        )
                    else:
                        db.execute(
                            "INSERT OR REPLACE INTO messages VALUES (?, ?, ?)",
                            (chat_id, message_id, _dump(msg)),
                        )
            for stored in emu.dirty.files:
                fields = dataclasses.asdict(stored)
                content = fields.pop("data")
                db.execute(
                    "INSERT OR REPLACE INTO files VALUES (?, ?, ?)",
                    (stored.file_id, _dump(fields), content),
                )
            for press_id in emu.dirty.callbacks:
                press = emu.callbacks.get(press_id)
                if press is not None:
                    db.execute(
                        "INSERT OR REPLACE INTO callbacks VALUES (?, ?)",
                        (press_id, _dump(dataclasses.asdict(press))),
                    )
            for key in emu.dirty.invoices:
                invoice = emu.payments.invoices.get(key)
                if invoice is not None:
                    db.execute(
                        "INSERT OR REPLACE INTO invoices VALUES (?, ?, ?)",
                        (*key, _dump(dataclasses.asdict(invoice))),
                    )
            updates = self._save_updates(emu)
            meta = self._save_meta(emu)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._saved_updates = updates
        self._saved_meta, self._saved_counters = meta
        emu.dirty.clear()

    def _save_updates(self, emu: Emulator) -> set[int]:
        pending = {u["update_id"]: u for u in emu.updates}
        gone = self._saved_updates - pending.keys()
        new = pending.keys() - self._saved_updates
        if gone:
            self.db.executemany("DELETE FROM updates WHERE update_id = ?", [(i,) for i in gone])
        if new:
            self.db.executemany(
                "INSERT OR REPLACE INTO updates VALUES (?, ?)",
                [(i, _dump(pending[i])) for i in sorted(new)],
            )
        return set(pending)

    def _save_meta(self, emu: Emulator) -> tuple[str, str]:
        settings = _dump(
            {
                "commands": [[scope, lang, cmds] for (scope, lang), cmds in emu.commands.items()],
                "menu_buttons": {
                    ("" if key is None else str(key)): button
                    for key, button in emu.menu_buttons.items()
                },
                "allowed_updates": emu.allowed_updates,
                "webhook_url": emu.webhook_url,
                "webhook_secret": emu.webhook_secret,
                "webhook_max_connections": emu.webhook_max_connections,
            }
        )
        counters = _dump(
            {
                "next_update_id": emu.next_update_id,
                "next_file_id": emu.next_file_id,
                "next_group_id": emu.next_group_id,
                "version": emu.changes.version,
            }
        )
        for key, value, saved in (
            ("settings", settings, self._saved_meta),
            ("counters", counters, self._saved_counters),
        ):
            if value != saved:
                self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
        return settings, counters
