"""The provider's push endpoint: POST /hooks/tracking/<provider>/<push token>.

Not part of the agent UI (no session, no CSRF: the provider signs the body). A wrong or missing
signature, or an unknown token, answers 401 and stores nothing; a verified push is stored raw first
and processed once (a push received twice answers 200 and changes nothing)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from aftersales.channels.base import SignatureInvalid

from .models import Provider
from .services import tracking_push_receive


@csrf_exempt
@require_POST
def tracking_push(request: HttpRequest, provider: str, token: str) -> JsonResponse:
    if provider not in Provider.values:
        return JsonResponse(
            {"error": {"code": "not_found", "message": "unknown provider", "field": "provider"}}, status=404
        )
    try:
        receipt = tracking_push_receive(token=token, headers=dict(request.headers), body=request.body)
    except SignatureInvalid:
        return JsonResponse(
            {
                "error": {
                    "code": "signature_invalid",
                    "message": "the push is not signed with this account's key",
                    "field": "sign",
                }
            },
            status=401,
        )
    return JsonResponse({"status": receipt.outcome})
