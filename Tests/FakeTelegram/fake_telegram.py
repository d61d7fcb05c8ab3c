#!/usr/bin/env python3
"""A fake Telegram Bot API for the local stack and the tests (Python 3 standard library only).

It answers what SignalBridge uses of the real API, with the real API's shapes and error texts:

  POST|GET /bot<token>/sendMessage   chat_id (int or string), text, parse_mode?, disable_web_page_preview?,
                                     as JSON, form-encoded body or query string
  POST|GET /bot<token>/getMe

Errors: a token other than the expected one -> 401 Unauthorized; no chat_id -> 400 "Bad Request: chat_id is
empty"; no or empty text -> 400 "Bad Request: message text is empty"; text over 4096 characters (counted in
UTF-16 code units after entity parsing, as Telegram counts) -> 400 "Bad Request: message is too long"; a chat
listed as unknown -> 400 "Bad Request: chat not found"; markup that does not parse under parse_mode (HTML,
MarkdownV2, Markdown) -> 400 "Bad Request: can't parse entities: ..."; an unknown method -> 404 Not Found.

Every sendMessage call, accepted or refused, is kept in memory and, with --record FILE, appended to FILE as
one JSON line. The token is never recorded or logged.

Control API (no token):
  GET    /_fake/messages[?chat_id=ID]   accepted messages (the inbox), oldest first
  GET    /_fake/calls[?chat_id=ID]      every sendMessage call, refused ones included
  DELETE /_fake/messages                forget messages, calls, faults, unknown chats and the delay (message ids
                                        keep increasing: Telegram never reuses one)
  GET    /_fake/faults                  the pending fault, unknown chats and delay
  POST   /_fake/faults                  {"fail_next": n, "status": 500|502|503|504|429|4xx, "retry_after": s,
                                         "description": "...", "format": "json"|"html"}
                                        the next n sendMessage calls fail (429: Telegram's flood-wait answer
                                        with parameters.retry_after; 502/503/504: nginx's HTML gateway page;
                                        500 and 4xx: Telegram's JSON error). {"fail_next": 0} clears it.
  POST   /_fake/unknown_chats           {"chat_ids": [...]} chats answering "chat not found" (replaces the list)
  POST   /_fake/delay                   {"seconds": s} every sendMessage answers s seconds late (the message is
                                        delivered when received, as a real send whose reply is slow)

Usage: fake_telegram.py [--port N] [--host 127.0.0.1] [--token-file FILE | --token T] [--record FILE] [--echo]
                        [--verbose]
Port: --port, else $FAKE_TELEGRAM_PORT, else $TELEGRAM_PORT, else 9103 (0 picks a free port, printed at start).
Expected token: --token-file / --token, else $FAKE_TELEGRAM_TOKEN_FILE / $FAKE_TELEGRAM_TOKEN; without one,
any token is accepted. Quiet by default (one start-up line on stderr); --echo prints one line per delivered
message on stderr (the local stack's log tail shows the alerts), --verbose one line per request. SIGTERM or
SIGINT stops it cleanly.
"""

import argparse
import html
import json
import os
import re
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_TEXT = 4096
MAX_BODY = 1 << 20
BOT = {"id": 1, "is_bot": True, "first_name": "SignalBridgeFake", "username": "signalbridge_fake_bot"}
GATEWAY_PAGES = {
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


class BadRequest(Exception):
    """A refusal in Telegram's words: status code and description."""

    def __init__(self, code, description):
        super().__init__(description)
        self.code = code
        self.description = description


# ---------------------------------------------------------------- entity parsing (parse_mode)


def _byte_offset(text, index):
    return len(text[:index].encode("utf-8"))


def _utf16_len(text):
    return len(text.encode("utf-16-le")) // 2


HTML_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "code", "pre",
    "blockquote", "tg-emoji",
}
HTML_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def parse_html(text):
    """Telegram's HTML mode: the supported tags, properly nested; returns the plain text."""
    out = []
    stack = []  # (tag, byte offset)
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "<":
            end = text.find(">", i + 1)
            if end < 0:
                raise BadRequest(400, "Bad Request: can't parse entities: Unclosed start tag at byte offset %d"
                                 % _byte_offset(text, i))
            inner = text[i + 1:end]
            if inner.startswith("/"):
                name = inner[1:].strip().lower()
                if not stack:
                    raise BadRequest(400, "Bad Request: can't parse entities: Unexpected end tag at byte offset %d"
                                     % _byte_offset(text, i))
                open_name = stack[-1][0]
                if name != open_name:
                    raise BadRequest(400, "Bad Request: can't parse entities: Can't find end tag corresponding to "
                                     "start tag \"%s\"" % open_name)
                stack.pop()
            else:
                m = re.match(r"([A-Za-z][A-Za-z0-9-]*)", inner)
                name = m.group(1).lower() if m else ""
                if name not in HTML_TAGS:
                    raise BadRequest(400, "Bad Request: can't parse entities: Unsupported start tag \"%s\" at byte "
                                     "offset %d" % (name or inner.split(" ")[0], _byte_offset(text, i)))
                if name == "span" and "tg-spoiler" not in inner:
                    raise BadRequest(400, "Bad Request: can't parse entities: Tag \"span\" must have class "
                                     "\"tg-spoiler\" at byte offset %d" % _byte_offset(text, i))
                stack.append((name, _byte_offset(text, i)))
            i = end + 1
        elif c == "&":
            m = re.match(r"&(#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z]+);", text[i:])
            if m and m.group(1).startswith("#"):
                body = m.group(1)[1:]
                code = int(body[1:], 16) if body[:1] in "xX" else int(body)
                out.append(chr(code) if 0 < code <= 0x10FFFF else "\ufffd")
                i += m.end()
            elif m and m.group(1) in HTML_NAMED_ENTITIES:
                out.append(HTML_NAMED_ENTITIES[m.group(1)])
                i += m.end()
            else:  # Telegram leaves an unrecognised '&' as it is
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    if stack:
        raise BadRequest(400, "Bad Request: can't parse entities: Can't find end tag corresponding to start tag "
                         "\"%s\"" % stack[-1][0])
    return "".join(out)


MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")


def _reserved(c):
    return BadRequest(400, "Bad Request: can't parse entities: Character '%s' is reserved and must be escaped with "
                      "the preceding '\\'" % c)


def _unclosed(text, start):
    return BadRequest(400, "Bad Request: can't parse entities: Can't find end of the entity starting at byte "
                      "offset %d" % _byte_offset(text, start))


def parse_markdown_v2(text):
    """Telegram's MarkdownV2 (bold, italic, underline, strike, spoiler, code, pre, links, block quotes): every
    reserved character outside the markup must be escaped; returns the plain text."""
    out = []
    open_marks = []  # (mark, start index)
    i = 0
    n = len(text)
    line_start = True
    while i < n:
        c = text[i]
        if c == "\\":
            if i + 1 >= n or not (0 < ord(text[i + 1]) < 127):
                raise _unclosed(text, i)
            out.append(text[i + 1])
            i += 2
            line_start = False
            continue
        if c == "`":
            fence = text.startswith("```", i)
            mark = "```" if fence else "`"
            j = i + len(mark)
            while j < n:
                if text[j] == "\\" and j + 1 < n:
                    j += 2
                    continue
                if text.startswith(mark, j):
                    break
                j += 1
            if j >= n:
                raise _unclosed(text, i)
            content = text[i + len(mark):j]
            if fence and "\n" in content:  # the first line names the language
                first, rest = content.split("\n", 1)
                if re.fullmatch(r"[A-Za-z0-9_+#-]*", first):
                    content = rest
            out.append(re.sub(r"\\([`\\])", r"\1", content))
            i = j + len(mark)
            line_start = False
            continue
        if c in "*~" or c == "_" or (c == "|" and text.startswith("||", i)):
            if c == "_" and text.startswith("__", i):
                mark = "__"
            elif c == "|":
                mark = "||"
            else:
                mark = c
            if open_marks and open_marks[-1][0] == mark:
                open_marks.pop()
            elif any(m == mark for m, _ in open_marks):
                raise _unclosed(text, [s for m, s in open_marks if m == mark][-1])
            else:
                open_marks.append((mark, i))
            i += len(mark)
            line_start = False
            continue
        if c == "[":
            open_marks.append(("[", i))
            i += 1
            line_start = False
            continue
        if c == "]":
            if not open_marks or open_marks[-1][0] != "[":
                raise _reserved(c)
            start = open_marks.pop()[1]
            if not text.startswith("(", i + 1):
                raise _unclosed(text, start)
            j = i + 2
            while j < n and text[j] != ")":
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                raise _unclosed(text, start)
            i = j + 1
            line_start = False
            continue
        if c == ">" and line_start:
            i += 1
            line_start = False
            continue
        if c in MDV2_RESERVED:
            raise _reserved(c)
        out.append(c)
        line_start = c == "\n"
        i += 1
    if open_marks:
        raise _unclosed(text, open_marks[-1][1])
    return "".join(out)


def parse_markdown(text):
    """Telegram's legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url); returns the plain text."""
    out = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "*_`[":
            out.append(text[i + 1])
            i += 2
            continue
        if c in "*_`" or c == "[":
            if c == "[":
                close = text.find("]", i + 1)
                if close < 0:
                    raise _unclosed(text, i)
                out.append(text[i + 1:close])
                if text.startswith("(", close + 1):
                    end = text.find(")", close + 2)
                    if end < 0:
                        raise _unclosed(text, i)
                    i = end + 1
                else:
                    i = close + 1
                continue
            mark = "```" if text.startswith("```", i) else c
            end = text.find(mark, i + len(mark))
            if end < 0:
                raise _unclosed(text, i)
            out.append(text[i + len(mark):end])
            i = end + len(mark)
            continue
        out.append(c)
        i += 1
    return "".join(out)


def visible_text(text, parse_mode):
    mode = (parse_mode or "").strip()
    if not mode:
        return text
    lowered = mode.lower()
    if lowered == "html":
        return parse_html(text)
    if lowered == "markdownv2":
        return parse_markdown_v2(text)
    if lowered == "markdown":
        return parse_markdown(text)
    raise BadRequest(400, "Bad Request: unsupported parse_mode")


# ---------------------------------------------------------------- state


class State:
    def __init__(self, record_path):
        self.lock = threading.Lock()
        self.record = open(record_path, "a", encoding="utf-8") if record_path else None
        self.next_message_id = 1
        self.next_call = 1
        self.reset()

    def reset(self):
        self.messages = []
        self.calls = []
        self.fault = None  # {"remaining", "status", "retry_after", "description", "format"}
        self.unknown_chats = set()
        self.delay = 0.0

    def log_call(self, call):
        # Caller holds the lock.
        call["seq"] = self.next_call
        self.next_call += 1
        self.calls.append(call)
        if self.record:
            self.record.write(json.dumps(call, ensure_ascii=False) + "\n")
            self.record.flush()

    def control_view(self):
        return {
            "fault": dict(self.fault) if self.fault else None,
            "unknown_chats": sorted(self.unknown_chats),
            "delay_seconds": self.delay,
        }


def chat_key(chat_id):
    return str(chat_id)


def normalize_chat_id(raw):
    """Telegram takes an integer or a string (a number or an @username). Returns the chat id or raises."""
    if raw is None or isinstance(raw, bool):
        if raw is None:
            raise BadRequest(400, "Bad Request: chat_id is empty")
        raise BadRequest(400, "Bad Request: chat not found")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str):
        s = raw.strip()
        if not s:
            raise BadRequest(400, "Bad Request: chat_id is empty")
        if re.fullmatch(r"-?[0-9]{1,20}", s):
            return int(s)
        if re.fullmatch(r"@[A-Za-z][A-Za-z0-9_]{3,31}", s):
            return s
        raise BadRequest(400, "Bad Request: chat not found")
    raise BadRequest(400, "Bad Request: chat not found")


def chat_object(chat_id):
    if isinstance(chat_id, str):
        return {"id": -1000000000001, "title": chat_id[1:], "username": chat_id[1:], "type": "channel"}
    if chat_id < 0:
        return {"id": chat_id, "title": "SignalBridge operators", "type": "supergroup" if chat_id <= -10**12 else "group"}
    return {"id": chat_id, "first_name": "Operator", "type": "private"}


def truthy(value):
    if isinstance(value, bool):
        return value
    if value is None:
        return None
    return str(value).strip().lower() in ("1", "true", "yes", "on")


# ---------------------------------------------------------------- HTTP


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and Expect: 100-continue, as libcurl expects
    server_version = "nginx/1.18.0"
    timeout = 60  # idle keep-alive connections

    # -- plumbing

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):  # quiet unless --verbose; never logs the path (it holds the token)
        if self.server.verbose:
            path = re.sub(r"/bot[^/]*", "/bot<token>", self.path)
            sys.stderr.write("[fake-telegram] %s %s -> %s\n" % (self.command, path, args[1] if len(args) > 1 else ""))

    def log_request(self, code="-", size="-"):
        self.log_message("%s %s %s", self.requestline, str(code), str(size))

    def send_body(self, status, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_json(self, status, obj):
        self.send_body(status, json.dumps(obj, ensure_ascii=False))

    def read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            total = 0
            while True:
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    raise BadRequest(413, "Request Entity Too Large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise BadRequest(413, "Request Entity Too Large")
        return self.rfile.read(length) if length > 0 else b""

    def params(self, body, query):
        """Query string, then the body (JSON or form-encoded), later values winning, as Telegram merges them."""
        params = {k: v[-1] for k, v in urllib.parse.parse_qs(query, keep_blank_values=True).items()}
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if body:
            if ctype == "application/json" or (not ctype and body.lstrip()[:1] == b"{"):
                try:
                    obj = json.loads(body.decode("utf-8"))
                except (ValueError, UnicodeDecodeError):
                    raise BadRequest(400, "Bad Request: can't parse JSON object")
                if not isinstance(obj, dict):
                    raise BadRequest(400, "Bad Request: can't parse JSON object")
                params.update(obj)
            elif ctype in ("application/x-www-form-urlencoded", ""):
                try:
                    text = body.decode("utf-8")
                except UnicodeDecodeError:
                    raise BadRequest(400, "Bad Request: strings must be encoded in UTF-8")
                params.update({k: v[-1] for k, v in urllib.parse.parse_qs(text, keep_blank_values=True).items()})
        return params

    def handle_any(self):
        try:
            url = urllib.parse.urlsplit(self.path)
            path = urllib.parse.unquote(url.path)
            body = self.read_body()
            if path.startswith("/_fake/"):
                return self.control(path[len("/_fake/"):].rstrip("/"), url.query, body)
            m = re.fullmatch(r"/bot([^/]*)/([A-Za-z_]+)", path)
            if not m:
                return self.send_json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            token, method = m.group(1), m.group(2).lower()
            if method == "sendmessage":
                return self.send_message(token, body, url.query)
            if not self.server.token_ok(token):
                return self.send_json(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            if method == "getme":
                return self.send_json(200, {"ok": True, "result": dict(BOT, can_join_groups=True,
                                                                     can_read_all_group_messages=False,
                                                                     supports_inline_queries=False)})
            return self.send_json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        except BadRequest as e:
            return self.send_json(e.code, {"ok": False, "error_code": e.code, "description": e.description})
        except (ValueError, OSError) as e:
            if isinstance(e, (BrokenPipeError, ConnectionResetError)):
                return None
            self.close_connection = True
            return self.send_json(400, {"ok": False, "error_code": 400, "description": "Bad Request: %s" % e})

    do_GET = do_POST = do_PUT = do_DELETE = handle_any

    # -- the Bot API

    def send_message(self, token, body, query):
        state = self.server.state
        received = time.time()
        call = {"time": round(received, 3), "method": "sendMessage", "chat_id": None, "text": None,
                "parse_mode": None, "disable_web_page_preview": None}
        try:
            params = self.params(body, query)
        except BadRequest as e:
            params = {}
            parse_error = e
        else:
            parse_error = None
        raw_chat = params.get("chat_id")
        call["chat_id"] = raw_chat
        call["text"] = params.get("text") if isinstance(params.get("text"), str) else None
        call["parse_mode"] = params.get("parse_mode") if isinstance(params.get("parse_mode"), str) else None
        call["disable_web_page_preview"] = truthy(params.get("disable_web_page_preview"))
        if "link_preview_options" in params:
            call["link_preview_options"] = params["link_preview_options"]
        status, reply, headers = 200, None, {}
        with state.lock:
            delay = state.delay
            try:
                if not self.server.token_ok(token):
                    raise BadRequest(401, "Unauthorized")
                if state.fault and state.fault["remaining"] > 0:
                    fault = state.fault
                    fault["remaining"] -= 1
                    if fault["remaining"] <= 0:
                        state.fault = None
                    status, reply, headers = fault_reply(fault)
                    call["fault"] = True
                else:
                    if parse_error:
                        raise parse_error
                    chat_id = normalize_chat_id(raw_chat)
                    call["chat_id"] = chat_id
                    if chat_key(chat_id) in state.unknown_chats:
                        raise BadRequest(400, "Bad Request: chat not found")
                    text = params.get("text")
                    if text is None or (isinstance(text, str) and not text.strip()):
                        raise BadRequest(400, "Bad Request: message text is empty")
                    if not isinstance(text, str):
                        text = json.dumps(text) if not isinstance(text, (int, float)) else str(text)
                        call["text"] = text
                    plain = visible_text(text, call["parse_mode"])
                    if not plain.strip():
                        raise BadRequest(400, "Bad Request: message text is empty")
                    if _utf16_len(plain) > MAX_TEXT:
                        raise BadRequest(400, "Bad Request: message is too long")
                    message_id = state.next_message_id
                    state.next_message_id += 1
                    date = int(received)
                    result = {"message_id": message_id, "from": dict(BOT), "chat": chat_object(chat_id),
                              "date": date, "text": plain}
                    if isinstance(chat_id, str):
                        result["sender_chat"] = result["chat"]
                        del result["from"]
                    reply = {"ok": True, "result": result}
                    state.messages.append({
                        "message_id": message_id, "chat_id": chat_id, "text": text, "plain_text": plain,
                        "parse_mode": call["parse_mode"],
                        "disable_web_page_preview": call["disable_web_page_preview"],
                        "date": date, "time": call["time"],
                    })
                    call["message_id"] = message_id
                    if self.server.echo:
                        line = plain if len(plain) <= 300 else plain[:300] + "…"
                        sys.stderr.write("[fake-telegram] message %d to %s: %s\n"
                                         % (message_id, chat_id, line.replace("\n", " ⏎ ")))
                        sys.stderr.flush()
            except BadRequest as e:
                status = e.code
                reply = {"ok": False, "error_code": e.code, "description": e.description}
            call["status"] = status
            call["ok"] = status == 200
            if isinstance(reply, dict) and not reply.get("ok"):
                call["description"] = reply.get("description")
            state.log_call(call)
        if delay > 0:
            time.sleep(delay)
        if isinstance(reply, dict):
            return self.send_json(status, reply)
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        data = reply.encode("utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        return None

    # -- control API

    def control(self, what, query, body):
        state = self.server.state
        method = self.command
        if what in ("messages", "calls") and method == "GET":
            want = urllib.parse.parse_qs(query).get("chat_id", [None])[-1]
            with state.lock:
                items = list(state.messages if what == "messages" else state.calls)
            if want is not None:
                items = [m for m in items if chat_key(m.get("chat_id")) == want]
            return self.send_json(200, items)
        if what == "messages" and method == "DELETE":
            with state.lock:
                state.reset()
            return self.send_json(200, {"ok": True})
        if what == "faults" and method == "GET":
            with state.lock:
                return self.send_json(200, state.control_view())
        if what in ("faults", "unknown_chats", "delay") and method == "POST":
            try:
                obj = json.loads(body.decode("utf-8") or "{}")
                if not isinstance(obj, dict):
                    raise ValueError("a JSON object is expected")
                with state.lock:
                    if what == "faults":
                        state.fault = parse_fault(obj)
                    elif what == "unknown_chats":
                        ids = obj.get("chat_ids")
                        if not isinstance(ids, list):
                            raise ValueError("chat_ids must be a list")
                        state.unknown_chats = {chat_key(x) for x in ids}
                    else:
                        seconds = float(obj.get("seconds", 0))
                        if not 0 <= seconds <= 3600:
                            raise ValueError("seconds must be between 0 and 3600")
                        state.delay = seconds
                    view = state.control_view()
            except (ValueError, TypeError, UnicodeDecodeError) as e:
                return self.send_json(400, {"ok": False, "error": str(e)})
            return self.send_json(200, dict(view, ok=True))
        return self.send_json(404, {"ok": False, "error": "no such control endpoint: %s /_fake/%s" % (method, what)})


def parse_fault(obj):
    n = int(obj.get("fail_next", 1))
    if n < 0:
        raise ValueError("fail_next must be >= 0")
    if n == 0:
        return None
    status = int(obj.get("status", 500))
    if not 400 <= status <= 599:
        raise ValueError("status must be a 4xx or 5xx code")
    retry_after = int(obj.get("retry_after", 1 if status == 429 else 0))
    if retry_after < 0:
        raise ValueError("retry_after must be >= 0")
    fmt = obj.get("format") or ("html" if status in GATEWAY_PAGES else "json")
    if fmt not in ("json", "html"):
        raise ValueError("format must be json or html")
    description = obj.get("description")
    if description is not None and not isinstance(description, str):
        raise ValueError("description must be a string")
    return {"remaining": n, "status": status, "retry_after": retry_after, "format": fmt, "description": description}


def fault_reply(fault):
    """(status, body, headers) of a failure: a dict is sent as JSON, a string as is with the headers given."""
    status = fault["status"]
    if status == 429:
        x = fault["retry_after"]
        return 429, {"ok": False, "error_code": 429, "description": fault["description"] or
                     "Too Many Requests: retry after %d" % x, "parameters": {"retry_after": x}}, {}
    if fault["format"] == "html":
        title = "%d %s" % (status, GATEWAY_PAGES.get(status, "Internal Server Error"))
        page = ("<html>\r\n<head><title>%s</title></head>\r\n<body>\r\n<center><h1>%s</h1></center>\r\n"
                "<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n") % (title, title)
        return status, page, {"Content-Type": "text/html"}
    defaults = {500: "Internal Server Error", 400: "Bad Request", 401: "Unauthorized",
                403: "Forbidden: bot was blocked by the user", 404: "Not Found"}
    description = fault["description"] or defaults.get(status, "Error")
    return status, {"ok": False, "error_code": status, "description": description}, {}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a kept-alive or delayed connection must not hold up SIGTERM
    allow_reuse_address = True

    def __init__(self, address, state, token, verbose, echo):
        super().__init__(address, Handler)
        self.state = state
        self.token = token
        self.verbose = verbose
        self.echo = echo

    def token_ok(self, token):
        return self.token is None or token == self.token

    def handle_error(self, request, client_address):
        if self.verbose:
            super().handle_error(request, client_address)


def main(argv):
    ap = argparse.ArgumentParser(description="Fake Telegram Bot API (see the module docstring).")
    ap.add_argument("port_arg", nargs="?", type=int, help="port (same as --port)")
    ap.add_argument("--port", type=int)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--token-file", default=os.environ.get("FAKE_TELEGRAM_TOKEN_FILE"))
    ap.add_argument("--token", default=os.environ.get("FAKE_TELEGRAM_TOKEN"))
    ap.add_argument("--record", metavar="FILE", help="append every sendMessage call as a JSON line")
    ap.add_argument("--echo", action="store_true", help="one line per delivered message on stderr")
    ap.add_argument("--verbose", action="store_true", help="one line per request on stderr")
    args = ap.parse_args(argv)
    port = args.port if args.port is not None else args.port_arg
    if port is None:
        port = int(os.environ.get("FAKE_TELEGRAM_PORT") or os.environ.get("TELEGRAM_PORT") or 9103)
    token = args.token or None
    if args.token_file:
        with open(args.token_file, encoding="utf-8") as f:
            token = f.read().rstrip("\r\n")
        if not token:
            ap.error("the token file is empty")
    state = State(args.record)
    server = Server((args.host, port), state, token, args.verbose, args.echo)
    # SIGTERM/SIGINT blocked in every thread (the request threads inherit the mask) and taken by sigwait here,
    # so a stop is immediate whichever thread the kernel would have picked.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    sys.stderr.write("[fake-telegram] Bot API on http://%s:%d (token: %s), inbox: GET /_fake/messages\n"
                     % (args.host, server.server_address[1], "checked" if token else "any"))
    sys.stderr.flush()
    signal.sigwait(stop_signals)
    server.shutdown()
    server.server_close()
    if state.record:
        state.record.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
