#!/usr/bin/env bash
# Bundles the web app's JavaScript modules (talk-server/web/js/, the source)
# into the one file the demo server inlines into its page
# (talk-server/web/bundle.js, committed, so that building the server needs
# nothing but cargo). Run it after changing a module:
#
#   scripts/bundle-web.sh           # writes talk-server/web/bundle.js
#   scripts/bundle-web.sh --check   # fails when the committed bundle is stale
#
# It installs esbuild (pinned) with npm into target/web-tools when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

ESBUILD_VERSION=0.25.12
tools=target/web-tools
esbuild="$tools/node_modules/.bin/esbuild"
if [ ! -x "$esbuild" ] || [ "$("$esbuild" --version)" != "$ESBUILD_VERSION" ]; then
    mkdir -p "$tools"
    npm install --prefix "$tools" --no-save --no-audit --no-fund --loglevel=error "esbuild@$ESBUILD_VERSION" >&2
fi

bundle() {
    # From web/, so that the bundle's comments name the modules by their paths there.
    (cd talk-server/web && "../../$esbuild" js/main.js --bundle --format=esm --target=es2020 \
        --legal-comments=none --log-level=warning --outfile="$1")
}

case "${1:-}" in
    --check)
        fresh=$(mktemp)
        trap 'rm -f "$fresh"' EXIT
        bundle "$fresh"
        if ! cmp -s "$fresh" talk-server/web/bundle.js; then
            echo "talk-server/web/bundle.js is not the bundle of talk-server/web/js/: run scripts/bundle-web.sh and commit it" >&2
            exit 1
        fi
        ;;
    "")
        bundle "$PWD/talk-server/web/bundle.js"
        ;;
    *)
        echo "usage: scripts/bundle-web.sh [--check]" >&2
        exit 2
        ;;
esac
