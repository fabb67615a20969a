from django.urls import path

from govshare.catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.browse, name="browse"),
    path("resources/<int:resource_id>/", views.resource_detail, name="detail"),
]
