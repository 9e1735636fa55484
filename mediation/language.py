"""Language of the residents' public pages.

Staff pages are always in French. Residents' pages (/rdv/…) can be read in English too, as many
residents who need help with procedures read French poorly: `?lang=en` switches and a cookie
remembers the choice."""

from django.conf import settings
from django.utils import translation

PUBLIC_PREFIX = "/rdv/"
COOKIE = "rdv_lang"
PUBLIC_LANGUAGES = {code for code, _name in settings.LANGUAGES}


class PublicLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = settings.LANGUAGE_CODE
        chosen = None
        if request.path.startswith(PUBLIC_PREFIX):
            chosen = request.GET.get("lang")
            if chosen in PUBLIC_LANGUAGES:
                language = chosen
            elif request.COOKIES.get(COOKIE) in PUBLIC_LANGUAGES:
                language = request.COOKIES[COOKIE]
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if chosen in PUBLIC_LANGUAGES:
            response.set_cookie(
                COOKIE,
                chosen,
                max_age=365 * 24 * 3600,
                samesite="Lax",
                secure=not settings.DEBUG,
                httponly=True,
            )
        response.headers.setdefault("Content-Language", language)
        translation.deactivate()
        return response
