#!/usr/bin/env bash
# Started by `make run`: migrate, load the demo data into an empty database, then run the web
# app and the django-q2 cluster side by side (supervised) until Ctrl-C or SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PORT="${PORT:-8000}"
# Links in e-mails (invitations, password resets) must point at the port in use.
export SITE_URL="${SITE_URL:-http://127.0.0.1:${PORT}}"
mkdir -p var

$PY manage.py migrate --noinput -v0
demo=$($PY manage.py seed_demo --if-empty)

# The web server and the cluster side by side, under scripts/supervise.py: one that crashes is
# started again without stopping the other; Ctrl-C or SIGTERM stops both within GRACE seconds.
banner=$(cat <<MSG

============================================================================
  Permanence est lancée : http://127.0.0.1:${PORT}/
  Tâches de fond (django-q2) : démarrées.  Ctrl-C arrête les deux.

${demo}
============================================================================
MSG
)
# The banner after the start-up lines of both processes, so that it stays visible.
exec $PY scripts/supervise.py --grace "${GRACE:-10}" --banner-after 3 --banner "$banner" \
  "cluster=$PY manage.py qcluster" \
  "web=$PY manage.py runserver 127.0.0.1:${PORT} --noreload"
