#!/usr/bin/env bash
# The OpenAI-compatible REST API with curl: list models, one chat completion, one streamed answer.
# Run:  LOCAL_MODEL_BASE_URL=http://localhost:8080/v1 bash rest-api-curl.sh
set -euo pipefail
BASE_URL=${LOCAL_MODEL_BASE_URL:-http://localhost:8080/v1}
MODEL=${LOCAL_MODEL_NAME:-ai/smollm2}
KEY=${LOCAL_API_KEY:-dummy-key}
CURL=(curl --silent --show-error --fail-with-body --noproxy '*' -H "Authorization: Bearer $KEY")

echo "## GET $BASE_URL/models"
"${CURL[@]}" "$BASE_URL/models"
echo

echo "## POST $BASE_URL/chat/completions"
"${CURL[@]}" -H "Content-Type: application/json" "$BASE_URL/chat/completions" -d @- <<JSON
{"model": "$MODEL", "messages": [{"role": "user", "content": "Say hello in one sentence."}], "max_tokens": 60}
JSON
echo

echo "## POST $BASE_URL/chat/completions (stream)"
"${CURL[@]}" --no-buffer -H "Content-Type: application/json" "$BASE_URL/chat/completions" -d @- <<JSON
{"model": "$MODEL", "messages": [{"role": "user", "content": "Count from one to five."}], "max_tokens": 60, "stream": true}
JSON
echo
