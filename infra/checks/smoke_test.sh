#!/usr/bin/env bash
# Smoke test of the deployed HTTP function, with an identity token of the caller (a person with
# gcloud credentials, or the deploy pipeline's service account, which Terraform lets invoke it).
#
#   infra/checks/smoke_test.sh URL [--public]
#
# Checks, in order:
#   1. without a token the function refuses (401/403): it is not public by accident
#      (skipped with --public, i.e. when http_allow_unauthenticated was turned on deliberately);
#   2. GET /health answers 200 (retried: the first request may meet a cold start or a new revision);
#   3. POST /predict scores a tweet with the model named by LATEST (a 503 means no model loaded);
#   4. GET /model names the version that scored it.
# Needs bash, curl, gcloud and python3 (the Cloud SDK image has them).
set -euo pipefail

URL="${1:?usage: smoke_test.sh URL [--public]}"
URL="${URL%/}"
PUBLIC="${2:-}"
TWEET='{"text": "Lovely crew and we landed early, thank you Air Paradis!"}'

fail() { echo "smoke test FAILED: $*" >&2; exit 1; }

if [[ "$PUBLIC" != "--public" ]]; then
  anonymous=$(curl -sS -o /dev/null -w '%{http_code}' "$URL/health")
  [[ "$anonymous" == "401" || "$anonymous" == "403" ]] \
    || fail "an unauthenticated GET /health got HTTP $anonymous; the function must not be public"
  echo "ok: unauthenticated requests are refused (HTTP $anonymous)"
fi

# A service account (Cloud Build, CI) must name the audience; a user's token is accepted as it is.
TOKEN=$(gcloud auth print-identity-token --audiences="$URL" 2>/dev/null || gcloud auth print-identity-token)
AUTH="Authorization: Bearer $TOKEN"

# Up to ~2 minutes: a new revision may still be rolling out.
curl -fsS --retry 12 --retry-delay 10 --retry-all-errors --max-time 30 -H "$AUTH" "$URL/health" \
  || fail "GET /health did not answer 200"
echo
echo "ok: /health"

# 503 is retried a few times (a model loading on a fresh instance), then it is the answer.
body_file=$(mktemp)
trap 'rm -f "$body_file"' EXIT
status=$(curl -sS --retry 3 --retry-delay 10 --max-time 60 -o "$body_file" -w '%{http_code}' \
  -H "$AUTH" -H 'Content-Type: application/json' -d "$TWEET" "$URL/predict")
body=$(cat "$body_file")
[[ "$status" == "200" ]] || fail "POST /predict answered HTTP $status: $body (503 = no model: publish one)"
python3 - "$body" <<'EOF' || fail "POST /predict returned an unexpected body: $body"
import json, sys
p = json.loads(sys.argv[1])
assert p["sentiment"] in ("negative", "positive"), p
assert 0.0 <= float(p["probability_positive"]) <= 1.0, p
assert p["model_version"], p
print(f"ok: /predict -> {p['sentiment']} (p={float(p['probability_positive']):.3f}, model {p['model_version']})")
EOF

curl -fsS --max-time 30 -H "$AUTH" "$URL/model" >/dev/null || fail "GET /model did not answer 200"
echo "ok: /model"
echo "smoke test passed: $URL"
