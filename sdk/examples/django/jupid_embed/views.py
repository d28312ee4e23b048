"""GET /api/jupid/embed-token -> {"token": "<jwt>"} for the signed-in Django user.

settings.py:
    JUPID_PARTNER_ID = "acme-books"
    JUPID_EMBED_SECRET = os.environ["JUPID_EMBED_SECRET"]   # from your secret store, never in the repo
    JUPID_APP_URL = "https://app.jupid.com"
urls.py:
    path("api/jupid/embed-token", jupid_embed.views.embed_token),
    path("finance/", jupid_embed.views.finance_page),
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .tokens import mint_embed_token


def token_for(user):
    return mint_embed_token(
        partner_id=settings.JUPID_PARTNER_ID,
        secret=settings.JUPID_EMBED_SECRET,
        user_id=user.pk,
        email=user.email or None,
        name=user.get_full_name() or user.get_username(),
    )


@require_GET
@never_cache  # each token signs in once: never let a browser or proxy cache it
def embed_token(request):
    if not request.user.is_authenticated:
        return JsonResponse({"error": "not signed in"}, status=401)
    return JsonResponse({"token": token_for(request.user)})


@login_required
@never_cache
def finance_page(request):
    """A page that embeds Jupid; see templates/finance.html."""
    return render(
        request,
        "finance.html",
        {
            "jupid_partner_id": settings.JUPID_PARTNER_ID,
            "jupid_app_url": settings.JUPID_APP_URL,
            "jupid_token": token_for(request.user),
        },
    )
