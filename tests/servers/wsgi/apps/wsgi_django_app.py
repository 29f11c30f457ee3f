"""A one-module Django project served end to end by the prefork workers in the tests."""

from __future__ import annotations

import json

from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-tests-only",
        ROOT_URLCONF=__name__,
        ALLOWED_HOSTS=["*"],
        MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
        INSTALLED_APPS=[],
        USE_TZ=True,
    )

from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt


def index(request: HttpRequest) -> HttpResponse:
    return HttpResponse("django says hi", content_type="text/plain")


@csrf_exempt
def upload(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "post": request.POST.dict(),
            "files": {name: f.read().decode() for name, f in request.FILES.items()},
            "body_json": json.loads(request.body)
            if request.content_type == "application/json"
            else None,
        }
    )


def stream(request: HttpRequest) -> StreamingHttpResponse:
    return StreamingHttpResponse((f"row {i}\n" for i in range(4)), content_type="text/plain")


urlpatterns = [
    path("", index),
    path("upload/", upload),
    path("stream/", stream),
]

application = get_wsgi_application()
