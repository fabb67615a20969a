from django.urls import path

from govshare.sharing import views_requests

urlpatterns = [
    path("requests/<int:request_id>/", views_requests.request_detail, name="request_detail"),
]
