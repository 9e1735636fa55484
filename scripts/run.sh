#!/usr/bin/env bash
# Started by `make run`: migrate, load the demo data into an empty database, then run the web
# app and the django-q2 cluster side by side until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PORT="${PORT:-8000}"
# Links in e-mails (invitations, password resets) must point at the port in use.
export SITE_URL="${SITE_URL:-http://127.0.0.1:${PORT}}"
mkdir -p var

$PY manage.py migrate --noinput -v0
demo=$($PY manage.py seed_demo --if-empty)

pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "Arrêt de Permanence…"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT

$PY manage.py qcluster &
pids+=($!)
$PY manage.py runserver "127.0.0.1:${PORT}" --noreload &
pids+=($!)

# Let both processes print their start-up lines first, so that the banner stays visible.
sleep 3
cat <<MSG

============================================================================
  Permanence est lancée : http://127.0.0.1:${PORT}/
  Tâches de fond (django-q2) : démarrées.  Ctrl-C arrête les deux.

${demo}
============================================================================

MSG
wait -n "${pids[@]}"
