#!/usr/bin/env bash
# Runs the fuzz targets (tests/api/fuzz.rs: property tests over every parser of outside input,
# seeded by tests/fuzz-corpus/) for longer than the test suite does.
#
# Usage: scripts/fuzz.sh [cases-per-property] [extra cargo nextest arguments]
#   The default is 20000 cases per property (about a minute and a half here); the test suite
#   runs 256 (AGENTPAY_FUZZ_CASES). A failure prints the shrunk input: add it to the target's
#   corpus folder with the fix.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CASES=${1:-20000}
shift || true
AGENTPAY_FUZZ_CASES=$CASES exec cargo nextest run --test api --no-fail-fast "$@" fuzz::
