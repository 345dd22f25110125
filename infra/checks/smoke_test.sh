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

# The caller's identity token. A service account (the pipeline's deployer) names the function as the
# audience, and can only if it may mint its own ID tokens: roles/iam.serviceAccountOpenIdTokenCreator
# on itself, through the IAM Service Account Credentials API (infra/iam.tf gives the deployer both). A
# default build account cannot. A person's token (gcloud user credentials) cannot name an audience, and
# Cloud Run accepts it as it is.
account=$(gcloud auth list --filter=status:ACTIVE --format='value(account)' 2>/dev/null | head -n 1)
[[ -n "$account" ]] || fail "no active gcloud account to mint an identity token with"
error_file=$(mktemp)
if [[ "$account" == *.gserviceaccount.com ]]; then
  TOKEN=$(gcloud auth print-identity-token --audiences="$URL" 2>"$error_file") \
    || fail "$account cannot mint an identity token for $URL: $(tr '\n' ' ' < "$error_file")
  The smoke test must run as the deployer account (cloudbuild.yaml's serviceAccount), which has
  roles/iam.serviceAccountOpenIdTokenCreator on itself and the IAM Service Account Credentials API
  (iamcredentials.googleapis.com) on; a default build account has neither (infra/README.md, Deploy)."
else
  TOKEN=$(gcloud auth print-identity-token 2>"$error_file") \
    || fail "$account cannot mint an identity token: $(tr '\n' ' ' < "$error_file")"
fi
rm -f "$error_file"
[[ -n "$TOKEN" ]] || fail "gcloud printed an empty identity token for $account"
echo "ok: identity token of $account"
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
