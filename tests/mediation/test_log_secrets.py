"""Secrets in logs (issue 17, fix 6): private-link tokens, password-reset and invitation
tokens, API secrets and calendar-file links never reach a log line — the development
server's access log, Django's request log, gunicorn's access log — and the console e-mail
backend of a production configuration prints no address."""

import logging

import pytest
from django.core import mail
from django.test import RequestFactory

from mediation.logs import MaskedConsoleEmailBackend, RedactSecrets

# Fixed (test ids must be the same in every xdist worker), shaped like token_urlsafe(32).
TOKEN = "Xk3v9Q-_pL2mN8rT5wY1zA7bC4dE6fG0hJ9kL2mN4pQ"


def redacted(message: str, *args) -> str:
    record = logging.LogRecord("django.server", logging.INFO, __file__, 1, message, args, None)
    assert RedactSecrets().filter(record)
    return record.getMessage()


@pytest.mark.parametrize(
    "line",
    [
        f'"GET /rdv/a/{TOKEN}/ HTTP/1.1" 200 5120',
        f'"POST /rdv/a/{TOKEN}/annuler/ HTTP/1.1" 302 0',
        f'"GET /rdv/a/{TOKEN}/rendez-vous.ics HTTP/1.1" 200 812',
        f"Not Found: /rdv/a/{TOKEN}/deplacer/",
        f'"GET /compte/mot-de-passe-oublie/MTI/{TOKEN}/ HTTP/1.1" 302 0',
        f'"GET /compte/bienvenue/MTI/{TOKEN}/ HTTP/1.1" 200 3000',
        f"Authorization: Bearer {TOKEN}",
        f'"GET /api/v1/structures?token={TOKEN}&page=2 HTTP/1.1" 401 40',
        f"https://permanence.example.fr/rdv/a/{TOKEN}/",
    ],
)
def test_secrets_are_redacted_from_a_log_line(line):
    out = redacted(line)
    assert TOKEN not in out
    assert "[secret]" in out


def test_a_line_with_arguments_is_redacted_once_formatted():
    # The development server and gunicorn pass the request line as an argument.
    out = redacted('"%s" %s %s', f"GET /rdv/a/{TOKEN}/ HTTP/1.1", "200", "512")
    assert TOKEN not in out and out.startswith('"GET /rdv/a/[secret]/ HTTP/1.1" 200')
    mapping = logging.LogRecord(
        "gunicorn.access",
        logging.INFO,
        __file__,
        1,
        "%(r)s %(s)s",
        ({"r": f"GET /rdv/a/{TOKEN}/ HTTP/1.1", "s": "200"},),
        None,
    )
    RedactSecrets().filter(mapping)
    assert TOKEN not in mapping.getMessage()


def test_ordinary_lines_are_left_as_they_are():
    line = '"GET /s/mairie-loheac/agenda/?jour=2027-01-04 HTTP/1.1" 200 9000'
    assert redacted(line) == line


def test_every_handler_of_the_settings_redacts(settings):
    handlers = settings.LOGGING["handlers"]
    assert "django.server" in handlers
    for name, handler in handlers.items():
        assert "redact" in handler.get("filters", []), name
    assert settings.LOGGING["filters"]["redact"]["()"] == "mediation.logs.RedactSecrets"


@pytest.mark.django_db
def test_the_development_server_access_log_never_shows_a_private_link(capsys):
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    logger = logging.getLogger("django.server")
    request = RequestFactory().get(f"/rdv/a/{TOKEN}/")
    logger.info(
        '"%s" %s %s',
        f"GET /rdv/a/{TOKEN}/ HTTP/1.1",
        200,
        512,
        extra={"request": request, "status_code": 200},
    )
    logging.getLogger("django.request").warning("Not Found: %s", f"/rdv/a/{TOKEN}/")
    err = capsys.readouterr().err
    assert "/rdv/a/[secret]/" in err
    assert TOKEN not in err


def test_a_private_link_request_logs_no_token(client, caplog, db):
    caplog.set_level(logging.INFO)
    client.get(f"/rdv/a/{TOKEN}/")  # unknown token: 404, logged by django.request
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "Not Found" in text
    assert TOKEN not in text


def test_the_console_e_mail_backend_masks_addresses_in_production(capsys):
    message = mail.EmailMessage(
        "Votre rendez-vous",
        "Bonjour Awa, à lundi.",
        "Permanence <ne-pas-repondre@exemple.fr>",
        ["awa.diallo@example.org"],
        cc=["chef@exemple.fr"],
    )
    MaskedConsoleEmailBackend().send_messages([message])
    out = capsys.readouterr().out
    assert "awa.diallo@example.org" not in out and "chef@exemple.fr" not in out
    assert "Awa" not in out  # the body is not printed either
    assert "Votre rendez-vous" in out


def test_production_never_uses_the_plain_console_backend(tmp_path):
    from tests.mediation.test_settings_and_demo import run_manage

    code = "from django.conf import settings; print(settings.EMAIL_BACKEND)"
    result = run_manage(
        "shell",
        "-c",
        code,
        env_extra={
            "DEBUG": "false",
            "SECRET_KEY": "x" * 50,
            "ALLOWED_HOSTS": "permanence.example.fr",
            "PERMANENCE_VAR_DIR": str(tmp_path),
            "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        },
    )
    assert result.stdout.strip().splitlines()[-1] == "mediation.logs.MaskedConsoleEmailBackend"
