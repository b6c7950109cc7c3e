// Gigbot sandbox web chat. No build step, no dependencies, relative URLs only.
// Bot text is rendered from Telegram's (text, entities) pairs into DOM nodes built with
// createElement/textContent; nothing from the bot ever goes through innerHTML.
"use strict";

const API = "sandbox/api/";
const PERSONAS = [
  { id: 1001, first_name: "Clara (client)", username: "clara_client", role: "client" },
  { id: 1002, first_name: "Felix (freelancer)", username: "felix_freelancer", role: "freelancer" },
  { id: 1003, first_name: "Ada (admin)", username: "ada_admin", role: "admin" },
];
const SAFE_URL = /^(https?:|tg:|mailto:)/i;
const COLORS = ["#e17076", "#7bc862", "#65aadd", "#a695e7", "#ee7aae", "#6ec9cb", "#faa774"];
const LANGUAGES = ["en", "ru"]; // the app languages a column can switch between (Gigbot's)
const POLL_SECONDS = 25;
const RETRY_MIN_MS = 300; // first retry when the sandbox is away (e.g. restarting) …
const RETRY_MAX_MS = 5000; // … doubling up to this
const ANSWER_MS = 15000; // how long a pressed button waits for the bot's answer
const ACTION_MS = 5000; // a "typing…" shows this long, as the emulator reports it
const INLINE_DEBOUNCE_MS = 250; // an inline query goes once typing pauses this long
const INLINE_WAIT_S = 10; // how long the list waits for the bot's answer (its deadline)

let config = { bot: {}, admin_user_ids: [] };
const columns = new Map();

async function request(path, options = {}) {
  const res = await fetch(API + path, options);
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const error = new Error(body.error || res.statusText || "HTTP " + res.status);
    error.status = res.status;
    throw error;
  }
  return body;
}

// The page's own requests go one at a time (in order, as typed), so together with the
// one long-poll the page never holds more than 2 connections to the sandbox; a browser
// opens only 6 per host and queues the rest.
let queue = Promise.resolve();
function api(path, options = {}) {
  const run = queue.then(() => request(path, options));
  queue = run.catch(() => {});
  return run;
}

function pause(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}

function postJson(path, data) {
  return api(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(data),
  });
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

let toastTimer = null;
function toast(text) {
  const box = document.getElementById("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 3500);
}

// The start payload of a deep link to this bot (https://t.me/<bot>?start=X), "" without
// one, null for any other URL.
function deepLinkStart(url) {
  const m = /^https:\/\/t\.me\/(\w+)(?:\?start=([\w-]{0,64}))?$/.exec(url);
  if (!m || m[1].toLowerCase() !== (config.bot.username || "").toLowerCase()) return null;
  return m[2] || "";
}

// Minor units to text in the currency's own digits, e.g. (10500, "USD") -> "$105.00".
function formatMoney(amount, currency) {
  try {
    const fmt = new Intl.NumberFormat("en-US", { style: "currency", currency });
    return fmt.format(amount / 10 ** fmt.resolvedOptions().maximumFractionDigits);
  } catch (err) {
    return amount + " " + currency;
  }
}

// ---- entities -> DOM ----------------------------------------------------------------

function safeLink(url, label) {
  const a = el("a", null, label);
  if (SAFE_URL.test(url)) {
    a.href = url;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
  }
  return a;
}

function entityNode(entity, slice, column) {
  switch (entity.type) {
    case "bold": return el("b");
    case "italic": return el("i");
    case "underline": return el("u");
    case "strikethrough": return el("s");
    case "code": return el("code");
    case "pre": {
      const pre = el("pre");
      if (entity.language) pre.dataset.language = entity.language;
      return pre;
    }
    case "blockquote": return el("blockquote");
    case "expandable_blockquote": {
      const q = el("blockquote", "expandable");
      q.addEventListener("click", () => q.classList.toggle("open"));
      return q;
    }
    case "spoiler": {
      const s = el("span", "spoiler");
      s.addEventListener("click", () => s.classList.add("shown"));
      return s;
    }
    case "text_link": return safeLink(entity.url || "", undefined);
    case "url": return safeLink(/^[a-z]+:/i.test(slice) ? slice : "http://" + slice);
    case "email": return safeLink("mailto:" + slice);
    case "bot_command": {
      const c = el("span", "command");
      c.addEventListener("click", () => column && column.send(slice.split("@")[0]));
      return c;
    }
    case "mention": return el("span", "mention");
    case "hashtag": return el("span", "hashtag");
    default: return el("span");
  }
}

// JS strings are UTF-16, the unit of Telegram's offsets, so slicing maps directly.
function renderText(text, entities, column) {
  const frag = document.createDocumentFragment();
  const sorted = [...(entities || [])].sort((a, b) => a.offset - b.offset || b.length - a.length);
  function build(parent, start, end, list) {
    let pos = start;
    let i = 0;
    while (i < list.length) {
      const e = list[i];
      const eStart = Math.max(e.offset, pos);
      const eEnd = Math.min(e.offset + e.length, end);
      let j = i + 1;
      const inner = [];
      while (j < list.length && list[j].offset < eEnd) inner.push(list[j++]);
      if (eEnd <= eStart) { i = j; continue; }
      if (eStart > pos) parent.append(document.createTextNode(text.slice(pos, eStart)));
      const node = entityNode(e, text.slice(eStart, eEnd), column);
      build(node, eStart, eEnd, inner);
      parent.append(node);
      pos = eEnd;
      i = j;
    }
    if (pos < end) parent.append(document.createTextNode(text.slice(pos, end)));
  }
  build(frag, 0, text.length, sorted);
  return frag;
}

function formatSize(bytes) {
  if (bytes < 1024) return bytes + " B";
  if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
  return (bytes / 1024 / 1024).toFixed(1) + " MB";
}

function formatTime(unix) {
  const d = new Date(unix * 1000);
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

// ---- a chat column ------------------------------------------------------------------

class Column {
  constructor(user) {
    this.user = user;
    this.version = -1; // no view yet: the poll fetches this column's chat at once
    this.view = null;
    this.awaitingAnswers = new Map(); // callback query id -> resolve(answer or null)
    this.actionTimer = null;
    const tpl = document.getElementById("column-template");
    this.root = tpl.content.firstElementChild.cloneNode(true);
    this.messages = this.root.querySelector(".messages");
    this.replyKeyboard = this.root.querySelector(".reply-keyboard");
    this.commands = this.root.querySelector(".commands");
    this.input = this.root.querySelector(".text");
    this.fileInput = this.root.querySelector("input[type=file]");
    this.blockButton = this.root.querySelector(".block");
    this.langButton = this.root.querySelector(".lang");
    this.renderHeader();
    this.root.querySelector("form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const text = this.input.value;
      if (!text.trim()) return;
      this.input.value = "";
      this.send(text);
    });
    // Inline mode: "@bot words" lists the bot's results above the input (inline.py).
    this.inlineBox = el("div", "inline-results");
    this.inlineBox.hidden = true;
    this.root.insertBefore(this.inlineBox, this.root.querySelector("form"));
    this.inlineSeq = 0;
    this.inlineTimer = null;
    this.input.addEventListener("input", () => this.inlineTyped());
    this.fileInput.addEventListener("change", () => this.upload());
    this.blockButton.addEventListener("click", () => this.toggleBlock());
    this.root.querySelector(".menu").addEventListener("click", () => this.toggleCommands());
    this.langButton.addEventListener("click", () => this.switchLanguage());
    document.getElementById("columns").append(this.root);
  }

  role() {
    if (config.admin_user_ids.includes(this.user.id)) return "admin";
    const persona = PERSONAS.find((p) => p.id === this.user.id);
    return persona ? persona.role : null;
  }

  renderHeader() {
    const avatar = this.root.querySelector(".avatar");
    avatar.textContent = (this.user.first_name || "?").charAt(0).toUpperCase();
    avatar.style.background = COLORS[this.user.id % COLORS.length];
    this.root.querySelector(".name").textContent = this.user.first_name;
    const sub = this.root.querySelector(".sub");
    sub.replaceChildren();
    sub.append(document.createTextNode(
      (this.user.username ? "@" + this.user.username + " · " : "") + "id " + this.user.id));
    const role = this.role();
    if (role) sub.append(el("span", "role", role));
    if (this.view && this.view.action) sub.append(el("span", "typing", " · " + this.view.action + "…"));
    const lang = (this.user.language_code || "en").split("-")[0];
    this.langButton.textContent = lang.toUpperCase();
    this.langButton.title = "App language: " + lang + " (the command menu follows it)";
  }

  // The person's app language, as in Telegram's settings: what the bot sees as
  // language_code, and the language of the "/" command menu (setMyCommands is per language).
  async switchLanguage() {
    const current = (this.user.language_code || "en").split("-")[0];
    const next = LANGUAGES[(LANGUAGES.indexOf(current) + 1) % LANGUAGES.length];
    try {
      this.user = await postJson(`users/${this.user.id}/language`, { language_code: next });
    } catch (err) {
      toast(err.message);
      return;
    }
    this.renderHeader();
    if (!this.commands.hidden) await this.showCommands();
  }

  // The bot's answer to a button press arrives with the chat view (its "callbacks"), so
  // waiting for it takes no connection of its own.
  answerOf(queryId) {
    const known = this.answeredCallback(queryId);
    if (known) return Promise.resolve(known);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.awaitingAnswers.delete(queryId);
        resolve(null);
      }, ANSWER_MS);
      this.awaitingAnswers.set(queryId, (answer) => { clearTimeout(timer); resolve(answer); });
    });
  }

  answeredCallback(queryId) {
    const callbacks = (this.view && this.view.callbacks) || [];
    return callbacks.find((c) => c.id === queryId && c.answered) || null;
  }

  async send(text) {
    try {
      await postJson(`chats/${this.user.id}/messages`, { text });
    } catch (err) {
      toast(err.message);
    }
  }

  async upload() {
    const file = this.fileInput.files[0];
    if (!file) return;
    const form = new FormData();
    form.append("file", file, file.name);
    const caption = this.input.value.trim();
    if (caption) form.append("caption", caption);
    this.input.value = "";
    this.fileInput.value = "";
    try {
      await api(`chats/${this.user.id}/documents`, { method: "POST", body: form });
    } catch (err) {
      toast(err.message);
    }
  }

  async toggleBlock() {
    const blocked = this.view && this.view.blocked;
    try {
      await api(`chats/${this.user.id}/${blocked ? "unblock" : "block"}`, { method: "POST" });
    } catch (err) {
      toast(err.message);
    }
  }

  // "@<bot> words": after a short pause in typing, the words go to the bot as an inline
  // query; its answer is listed above the input, newest typing wins.
  inlineTyped() {
    clearTimeout(this.inlineTimer);
    const m = /^@(\w+) ([\s\S]*)$/.exec(this.input.value);
    const bot = (config.bot.username || "").toLowerCase();
    if (!m || m[1].toLowerCase() !== bot || config.inline_placeholder == null) {
      this.closeInline();
      return;
    }
    this.inlineTimer = setTimeout(() => this.inlineSearch(m[2], ""), INLINE_DEBOUNCE_MS);
  }

  closeInline() {
    this.inlineSeq++;
    this.inlineBox.hidden = true;
    this.inlineBox.replaceChildren();
  }

  async inlineSearch(query, offset) {
    const seq = ++this.inlineSeq;
    let asked;
    try {
      asked = await postJson(`chats/${this.user.id}/inline`, { query, offset });
      // The wait has a connection of its own: the page's queue must not stall behind it.
      if (!asked.answered) asked = await request(`inline/${asked.id}?timeout=${INLINE_WAIT_S}`);
    } catch (err) {
      toast(err.message);
      return;
    }
    if (seq !== this.inlineSeq) return; // typed on meanwhile
    this.renderInline(asked, offset !== "");
  }

  renderInline(asked, append) {
    if (!append) this.inlineBox.replaceChildren();
    this.inlineBox.querySelector(".inline-more")?.remove();
    this.inlineBox.hidden = false;
    if (!asked.answered) {
      this.inlineBox.append(el("div", "inline-empty", "The bot did not answer"));
      return;
    }
    if (!asked.results.length && !append) {
      this.inlineBox.append(el("div", "inline-empty", "No results"));
    }
    for (const result of asked.results) {
      const item = el("button", "inline-result");
      item.type = "button";
      item.dataset.resultId = result.id;
      item.append(el("div", "inline-title", result.title),
        el("div", "inline-description", result.description || ""));
      item.addEventListener("click", () => this.chooseInline(asked, result));
      this.inlineBox.append(item);
    }
    if (asked.next_offset) {
      const more = el("button", "inline-more", "More results…");
      more.type = "button";
      more.addEventListener("click", () => this.inlineSearch(asked.query, asked.next_offset));
      this.inlineBox.append(more);
    }
  }

  async chooseInline(asked, result) {
    this.input.value = "";
    this.closeInline();
    try {
      await postJson(`inline/${asked.id}/choose`, { result_id: result.id });
    } catch (err) {
      toast(err.message);
    }
  }

  closeCommands() {
    this.commands.hidden = true;
  }

  async toggleCommands() {
    if (!this.commands.hidden) { this.closeCommands(); return; }
    await this.showCommands();
  }

  // The menu in the person's language: commands are set per language_code.
  async showCommands() {
    const lang = encodeURIComponent(this.user.language_code || "");
    const list = await api(`chats/${this.user.id}/commands?language_code=${lang}`).catch(() => []);
    this.commands.replaceChildren();
    if (!list.length) this.commands.append(el("div", "sub", "The bot has set no commands."));
    for (const cmd of list) {
      const b = el("button");
      b.type = "button";
      b.append(el("span", "cmd", "/" + cmd.command), document.createTextNode(cmd.description));
      b.addEventListener("click", () => { this.closeCommands(); this.send("/" + cmd.command); });
      this.commands.append(b);
    }
    this.commands.hidden = false;
  }

  async press(message, button, node) {
    node.classList.add("pending");
    try {
      const press = await postJson(`chats/${this.user.id}/callbacks`,
        { message_id: message.message_id, data: button.callback_data });
      const answer = await this.answerOf(press.id);
      if (!answer) toast("The bot did not answer the button press.");
      else if (answer.url) window.open(answer.url, "_blank", "noopener");
      else if (answer.text && answer.show_alert) window.alert(answer.text);
      else if (answer.text) toast(answer.text);
    } catch (err) {
      toast(err.message);
    } finally {
      node.classList.remove("pending");
    }
  }

  // A view from the poll; older or equal ones (e.g. re-sent after a restart) are skipped.
  update(view) {
    if (this.version >= 0 && view.version <= this.version) return;
    this.version = view.version;
    this.render(view);
    for (const [queryId, resolve] of this.awaitingAnswers) {
      const answer = this.answeredCallback(queryId);
      if (answer) {
        this.awaitingAnswers.delete(queryId);
        resolve(answer);
      }
    }
  }

  render(view) {
    this.view = view;
    this.renderHeader();
    clearTimeout(this.actionTimer);
    if (view.action) {
      this.actionTimer = setTimeout(() => {
        this.view = { ...this.view, action: null };
        this.renderHeader();
      }, ACTION_MS);
    }
    this.root.classList.toggle("blocked", view.blocked);
    this.blockButton.textContent = view.blocked ? "Unblock bot" : "Block bot";
    const atBottom = this.messages.scrollHeight - this.messages.scrollTop - this.messages.clientHeight < 40;
    this.messages.replaceChildren();
    if (!view.messages.length) {
      this.messages.append(el("div", "empty", "No messages yet — try /start"));
    }
    for (const msg of view.messages) this.messages.append(this.renderMessage(msg));
    this.renderReplyKeyboard(view.reply_keyboard);
    if (atBottom || this.firstRender !== false) this.messages.scrollTop = this.messages.scrollHeight;
    this.firstRender = false;
  }

  renderMessage(msg) {
    const outgoing = !(msg.from && msg.from.is_bot);
    const wrap = el("div", "msg " + (outgoing ? "out" : "in"));
    const bubble = el("div", "bubble");
    if (msg.via_bot) bubble.append(el("div", "via", "via @" + msg.via_bot.username));
    if (msg.reply_to_message) {
      const r = msg.reply_to_message;
      bubble.append(el("div", "reply-quote", r.text || r.caption || "(attachment)"));
    }
    if (msg.photo && msg.photo.length) {
      const img = el("img", "photo");
      img.alt = "photo";
      img.src = API + "files/" + encodeURIComponent(msg.photo[msg.photo.length - 1].file_id);
      bubble.append(img);
    }
    if (msg.document) {
      const a = el("a", "file");
      a.href = API + "files/" + encodeURIComponent(msg.document.file_id);
      a.target = "_blank";
      a.rel = "noopener";
      const info = el("div");
      info.append(el("div", "fname", msg.document.file_name || "file"),
        el("div", "fsize", formatSize(msg.document.file_size || 0)));
      a.append(el("div", "icon", "📄"), info);
      bubble.append(a);
    }
    if (msg.invoice) bubble.append(this.renderInvoice(msg));
    if (msg.successful_payment) {
      const paid = msg.successful_payment;
      bubble.append(el("div", "paid", "✅ Paid " + formatMoney(paid.total_amount, paid.currency)));
    }
    if (msg.text !== undefined) bubble.append(renderText(msg.text, msg.entities, this));
    if (msg.caption) {
      const cap = el("div");
      cap.append(renderText(msg.caption, msg.caption_entities, this));
      bubble.append(cap);
    }
    bubble.append(el("div", "meta", (msg.edit_date ? "edited " : "") + formatTime(msg.date)));
    wrap.append(bubble);
    const keyboard = msg.reply_markup && msg.reply_markup.inline_keyboard;
    if (keyboard) wrap.append(this.renderInlineKeyboard(msg, keyboard));
    return wrap;
  }

  // An invoice (sendInvoice): its Pay button opens the payment sheet, as in Telegram.
  renderInvoice(msg) {
    const inv = msg.invoice;
    const box = el("div", "invoice");
    box.append(el("div", "invoice-title", inv.title), el("div", "invoice-description", inv.description));
    const pay = el("button", "invoice-pay", "Pay " + formatMoney(inv.total_amount, inv.currency));
    pay.type = "button";
    pay.addEventListener("click", () => this.openSheet(msg.message_id));
    box.append(pay);
    return box;
  }

  // The payment sheet: the invoice's price lines and total, Pay / Decline. Pay sends the
  // pre-checkout query; the bot's refusal shows on the sheet, its approval charges.
  async openSheet(messageId) {
    let inv;
    try {
      inv = await api(`chats/${this.user.id}/invoices/${messageId}`);
    } catch (err) {
      toast(err.message);
      return;
    }
    this.root.querySelector(".payment-sheet")?.remove();
    const sheet = el("div", "payment-sheet");
    sheet.append(el("div", "sheet-title", inv.title), el("div", "sheet-description", inv.description));
    for (const line of inv.prices) {
      const row = el("div", "sheet-line");
      row.append(el("span", null, line.label), el("span", null, formatMoney(line.amount, inv.currency)));
      sheet.append(row);
    }
    const total = el("div", "sheet-line sheet-total");
    total.append(el("span", null, "Total"), el("span", null, formatMoney(inv.total_amount, inv.currency)));
    const error = el("div", "sheet-error");
    error.hidden = true;
    const actions = el("div", "sheet-actions");
    const pay = el("button", "sheet-pay", "Pay " + formatMoney(inv.total_amount, inv.currency));
    const decline = el("button", "sheet-decline", "Decline");
    pay.type = decline.type = "button";
    decline.addEventListener("click", () => sheet.remove());
    pay.addEventListener("click", async () => {
      pay.disabled = decline.disabled = true;
      error.hidden = true;
      try {
        let asked = await postJson(`chats/${this.user.id}/invoices/${messageId}/pay`, {});
        if (!asked.answered) asked = await request(`pre_checkouts/${asked.id}?timeout=${INLINE_WAIT_S}`);
        if (asked.answered && asked.ok) {
          sheet.remove();
          return;
        }
        error.textContent = asked.answered ? asked.error_message : "The bot did not answer";
        error.hidden = false;
      } catch (err) {
        toast(err.message);
      }
      pay.disabled = decline.disabled = false;
    });
    actions.append(decline, pay);
    sheet.append(total, error, actions);
    this.root.insertBefore(sheet, this.root.querySelector("form"));
  }

  renderInlineKeyboard(msg, rows) {
    const box = el("div", "keyboard");
    for (const row of rows) {
      const line = el("div", "kb-row");
      for (const button of row) {
        let node;
        const start = deepLinkStart(button.url || "");
        if (start !== null) {
          // t.me/<this bot>?start=X opens the bot's chat with "/start X", as in Telegram.
          node = el("button", "deep-link", button.text);
          node.type = "button";
          node.addEventListener("click", () => this.send(start ? "/start " + start : "/start"));
        } else if (button.url) {
          node = safeLink(button.url, button.text); // e.g. the sandbox payment page
        } else {
          node = el("button", null, button.text);
          node.type = "button";
          if (button.callback_data !== undefined) {
            node.addEventListener("click", () => this.press(msg, button, node));
          } else {
            node.disabled = true;
            node.title = "Not available in the sandbox";
          }
        }
        line.append(node);
      }
      box.append(line);
    }
    return box;
  }

  renderReplyKeyboard(markup) {
    this.replyKeyboard.replaceChildren();
    const rows = markup && markup.keyboard;
    this.replyKeyboard.hidden = !rows;
    if (!rows) return;
    for (const row of rows) {
      const line = el("div", "kb-row");
      for (const button of row) {
        const text = typeof button === "string" ? button : button.text;
        const b = el("button", null, text);
        b.type = "button";
        b.addEventListener("click", () => {
          if (markup.one_time_keyboard) this.replyKeyboard.hidden = true;
          this.send(text);
        });
        line.append(b);
      }
      this.replyKeyboard.append(line);
    }
  }
}

// ---- the one long-poll for all columns -------------------------------------------------

// One request waits for changes in every column's chat (GET updates): a poll per column
// would take all of the browser's 6 connections per host and leave typed messages queued.
const poller = {
  since: -1, // the sandbox's change counter up to which every column is current
  controller: null, // aborts the request in flight, or the pause before a retry
  running: false,
  failures: 0, // requests failed in a row: the sandbox is away (stopped, restarting)
};

function setOffline(offline) {
  document.getElementById("status").hidden = !offline;
  document.body.classList.toggle("offline", offline);
}

// Called when a column is added: abort the running poll so the next one includes it.
function restartPoll() {
  if (poller.controller) poller.controller.abort();
  if (!poller.running) {
    poller.running = true;
    queueMicrotask(pollLoop); // after the caller has added all of its columns
  }
}

async function pollLoop() {
  for (;;) {
    const controller = new AbortController();
    poller.controller = controller;
    const all = [...columns.keys()];
    const fresh = all.filter((id) => columns.get(id).version < 0);
    // New columns get their chats at once; then one wait for a change in any chat. While
    // the sandbox is away, a probe that does not wait, so a return shows at once.
    const query = poller.failures
      ? `updates?chats=${all.join(",")}`
      : fresh.length
        ? `updates?chats=${fresh.join(",")}`
        : `updates?chats=${all.join(",")}&since=${poller.since}&timeout=${POLL_SECONDS}`;
    try {
      const body = await request(query, { signal: controller.signal });
      if (controller.signal.aborted) continue;
      if (poller.failures) { // back after a failure (a restart?): fetch everything again
        await resync();
        poller.failures = 0;
        setOffline(false);
        continue;
      }
      if (body.version < poller.since) { // a sandbox that lost its state counts from 0 again
        for (const column of columns.values()) column.version = -1;
        poller.since = -1;
        continue;
      }
      for (const view of body.chats) {
        const column = columns.get(view.chat_id);
        if (column) column.update(view);
      }
      // A snapshot of only the new columns says nothing about the others' changes.
      if (fresh.length === 0 || fresh.length === all.length) poller.since = body.version;
    } catch (err) {
      if (controller.signal.aborted) continue;
      poller.failures += 1;
      // 404: the sandbox does not know a column's person (it lost its state): it is
      // told about them again at once. Anything else: the sandbox is away; retry, backing off.
      if (err.status === 404) {
        await resync().catch(() => {});
        continue;
      }
      setOffline(true);
      const wait = Math.min(RETRY_MIN_MS * 2 ** (poller.failures - 1), RETRY_MAX_MS);
      await pause(wait, controller.signal);
    }
  }
}

// After the sandbox comes back: the config, every column's person (created again if the
// sandbox lost them), new people's columns, and every chat in full on the next poll.
async function resync() {
  config = await request("config");
  document.getElementById("botname").textContent = "@" + (config.bot.username || "");
  for (const column of columns.values()) {
    const { id, first_name, username, language_code } = column.user;
    await request("users", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ id, first_name, username, language_code }),
    });
  }
  const users = await request("users");
  for (const user of users) {
    const column = columns.get(user.id);
    if (column) {
      column.user = user;
      column.version = -1;
      column.renderHeader();
    }
  }
  users.filter((u) => !columns.has(u.id)).sort(byPersona).forEach(addColumn);
  poller.since = -1;
}

function byPersona(a, b) {
  const order = (u) => {
    const i = PERSONAS.findIndex((p) => p.id === u.id);
    return i < 0 ? PERSONAS.length + u.id : i;
  };
  return order(a) - order(b);
}

// ---- start-up -----------------------------------------------------------------------

function addColumn(user) {
  if (columns.has(user.id)) return;
  columns.set(user.id, new Column(user));
  restartPoll();
}

async function addUser() {
  const name = window.prompt("Name of the new user:", "Grace (freelancer)");
  if (!name || !name.trim()) return;
  try {
    const user = await postJson("users", { first_name: name.trim() });
    addColumn(user);
  } catch (err) {
    toast(err.message);
  }
}

async function connect() {
  config = await api("config");
  document.getElementById("botname").textContent = "@" + (config.bot.username || "");
  for (const persona of PERSONAS) {
    const { role, ...fields } = persona;
    await postJson("users", fields);
  }
  const users = await api("users");
  users.sort(byPersona).forEach(addColumn);
}

async function main() {
  document.getElementById("add-user").addEventListener("click", addUser);
  // Escape closes any open command menu, as the "/" button and choosing a command do.
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") for (const column of columns.values()) column.closeCommands();
  });
  // A page opened while the sandbox is away waits for it.
  for (let attempt = 0; ; attempt++) {
    try {
      await connect();
      setOffline(false);
      return;
    } catch (err) {
      setOffline(true);
      await pause(Math.min(RETRY_MIN_MS * 2 ** attempt, RETRY_MAX_MS), new AbortController().signal);
    }
  }
}

main();
