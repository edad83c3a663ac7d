#!/bin/sh
# What your backend does: mint short-lived tokens with its API key and hand them to the page.
# Usage: REELAY_KEY=… sh samples/browser/mint-tokens.sh [api-url] [page-url]
set -eu
API=${1:-http://localhost:3000}
PAGE=${2:-http://localhost:8080/index.html}
mint() {
  curl -fsS -X POST "$API/v1/tokens" -H "authorization: Bearer ${REELAY_KEY:-none}" -H 'content-type: application/json' -d "$1" |
    sed -n 's/.*"token":"\([^"]*\)".*/\1/p'
}
UPLOAD=$(mint '{"scope":"upload","ttlSeconds":3600}')
WATCH=$(mint '{"scope":"watch","ttlSeconds":3600}')
echo "$PAGE?api=$API&upload=$UPLOAD&watch=$WATCH"
