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
# The development server opens a thread, hence a database connection, per request: persistent
# connections (CONN_MAX_AGE) would pile up on PostgreSQL until it refuses clients
# (docs/deployment.md); the cluster keeps its own.
exec $PY scripts/supervise.py --grace "${GRACE:-10}" --banner-after 3 --banner "$banner" \
  "cluster=$PY manage.py qcluster" \
  "web=env CONN_MAX_AGE=0 $PY manage.py runserver 127.0.0.1:${PORT} --noreload"
