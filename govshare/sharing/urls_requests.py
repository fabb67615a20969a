from django.urls import path

from govshare.sharing import views_requests

urlpatterns = [
    path("requests/", views_requests.request_list, name="request_list"),
    path("requests/cart/", views_requests.request_cart, name="request_cart"),
    path("requests/review/", views_requests.request_review_queue, name="request_review_queue"),
    path("requests/overdue/", views_requests.request_overdue, name="request_overdue"),
    path("requests/stages/", views_requests.request_stages, name="request_stages"),
    path("requests/add/<int:resource_id>/", views_requests.request_add, name="request_add"),
    path("requests/<int:request_id>/", views_requests.request_detail, name="request_detail"),
    path("requests/<int:request_id>/withdraw/", views_requests.request_withdraw, name="request_withdraw"),
    path(
        "requests/<int:request_id>/lines/<int:line_id>/<slug:step>/",
        views_requests.request_line_action,
        name="request_line_action",
    ),
]
