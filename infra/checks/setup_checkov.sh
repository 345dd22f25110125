#!/usr/bin/env bash
# checkov in a virtualenv of its own: it pins old versions of packaging & co. that would fight the
# project's .venv. Idempotent: the venv is built once per checkov version (a stamp file records it)
# and rebuilt only if it stops working, so the offline checks cost ~3 s after the first run
# (~30-60 s, needs PyPI).
#
#   infra/checks/setup_checkov.sh               make sure .venv-checkov has checkov, print its path
#   infra/checks/setup_checkov.sh --run [ARGS]  ...then scan infra/ offline with .checkov.yaml
#
# Environment: CHECKOV_VENV (default: .venv-checkov at the repository root), PYTHON (default: python3).
set -euo pipefail

CHECKOV_VERSION="3.3.30"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${CHECKOV_VENV:-$ROOT/.venv-checkov}"
STAMP="$VENV/.installed-checkov-$CHECKOV_VERSION"

if [[ ! -f "$STAMP" ]] || ! "$VENV/bin/python" -c "import checkov" >/dev/null 2>&1; then
  echo "setting up checkov $CHECKOV_VERSION in $VENV" >&2
  if [[ -f "$VENV/pyvenv.cfg" ]]; then
    rm -rf "$VENV"  # a stale or broken virtualenv (and only a virtualenv) is rebuilt from scratch
  fi
  log="$(mktemp)"
  trap 'rm -f "$log"' EXIT
  if ! { "${PYTHON:-python3}" -m venv "$VENV" &&
         "$VENV/bin/python" -m pip install --disable-pip-version-check "checkov==$CHECKOV_VERSION"; } >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "could not install checkov $CHECKOV_VERSION into $VENV (see above)" >&2
    exit 1
  fi
  touch "$STAMP"
fi

if [[ "${1:-}" == "--run" ]]; then
  shift
  cd "$ROOT"
  # --skip-download: no Bridgecrew/Prisma policy download, no network at scan time.
  exec "$VENV/bin/checkov" --config-file "$ROOT/.checkov.yaml" --skip-download "$@"
fi
echo "$VENV/bin/checkov"
