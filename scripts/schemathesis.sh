#!/usr/bin/env bash
# API fuzzing from the OpenAPI document, with schemathesis.
#
#   scripts/schemathesis.sh [--max-examples N] [--time SECONDS] [extra schemathesis args...]
#
# Installs schemathesis from PyPI into target/schemathesis-venv if missing,
# starts the demo server on 127.0.0.1 (in-memory store, known agents and
# tokens), runs `schemathesis run` against its /v1.0/openapi.json with a
# bearer token, checking for 5xx (not_a_server_error) and response schema
# conformance (plus status code and content type conformance), bounded in
# examples per operation and in wall time, then stops the server.
# Only ever talks to 127.0.0.1. Not part of .ci/run.
#
# One worker: with several, hypothesis (on CPython 3.11) may fail in its own
# lambda-source parsing ("AST constructor recursion depth mismatch").
#
# Environment: PORT (default 18080), MAX_EXAMPLES (default 50),
# MAX_TIME (seconds, default 300), RELEASE (1 = --release build, default 1).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

PORT=${PORT:-18080}
MAX_EXAMPLES=${MAX_EXAMPLES:-50}
MAX_TIME=${MAX_TIME:-300}
RELEASE=${RELEASE:-1}
EXTRA=()
while [ $# -gt 0 ]; do
    case "$1" in
        --max-examples) MAX_EXAMPLES=$2; shift 2 ;;
        --time) MAX_TIME=$2; shift 2 ;;
        *) EXTRA+=("$1"); shift ;;
    esac
done

HOST=127.0.0.1
BASE="http://$HOST:$PORT"
VENV="$ROOT/target/schemathesis-venv"
REPORT_DIR="$ROOT/target/schemathesis-report"
TOKEN=fuzz-token

# 1. schemathesis, in a venv under target/.
if [ ! -x "$VENV/bin/schemathesis" ]; then
    echo "installing schemathesis into $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet schemathesis
fi
"$VENV/bin/schemathesis" --version >&2

# 2. The demo server, built first so that its start-up is quick.
PROFILE_FLAG=()
SERVER_BIN="$ROOT/target/debug/examples/server"
if [ "$RELEASE" = 1 ]; then
    PROFILE_FLAG=(--release)
    SERVER_BIN="$ROOT/target/release/examples/server"
fi
cargo build "${PROFILE_FLAG[@]}" --example server >&2
if curl -s -o /dev/null "$BASE/healthz"; then
    echo "something already listens on $HOST:$PORT; set PORT" >&2
    exit 2
fi
SERVER_LOG="$ROOT/target/schemathesis-server.log"
# The binary itself (not `cargo run`), so that $SERVER_PID is the server.
"$SERVER_BIN" \
    --db :memory: --listen "$HOST:$PORT" \
    --agent "fuzz-agent=$TOKEN" \
    --agent agent-id-1=token-1 --agent agent-id-2=token-2 \
    --agent agent-id-3=token-3 --agent agent-123=token-123 \
    >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!
stop_server() {
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
}
trap stop_server EXIT

for _ in $(seq 1 100); do
    curl -s -o /dev/null "$BASE/healthz" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$SERVER_LOG" >&2; echo "the server did not start" >&2; exit 1; }
    sleep 0.2
done
curl -sf -o /dev/null "$BASE/healthz" || { echo "the server did not answer" >&2; exit 1; }

# 3. Fuzz: 5xx and conformance of every answer to the document.
set +e
# From target/: schemathesis keeps its caches (.schemathesis/) in the current directory.
cd "$ROOT/target"
timeout --signal=INT $((MAX_TIME + 60)) "$VENV/bin/schemathesis" run "$BASE/v1.0/openapi.json" \
    --header "Authorization: Bearer $TOKEN" \
    --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
    --max-examples "$MAX_EXAMPLES" \
    --max-time "$MAX_TIME" \
    --request-timeout 10 \
    --workers 1 \
    --seed 1 \
    --generation-database "$ROOT/target/schemathesis-examples" \
    --no-color \
    --report junit,ndjson --report-dir "$REPORT_DIR" \
    "${EXTRA[@]}"
STATUS=$?
set -e

# 4. Any 5xx the server logged, whatever schemathesis concluded.
SERVER_ERRORS=$(grep -c 'status=5[0-9][0-9]' "$SERVER_LOG" || true)
REQUESTS=$(grep -c 'talk_http::access' "$SERVER_LOG" || true)
echo "server: $REQUESTS requests served, $SERVER_ERRORS answered 5xx (log: $SERVER_LOG)" >&2
if [ "$SERVER_ERRORS" != 0 ]; then
    grep 'status=5[0-9][0-9]' "$SERVER_LOG" | head -20 >&2
    [ "$STATUS" = 0 ] && STATUS=1
fi
exit "$STATUS"
