from django.urls import path

from govshare.grading import views

app_name = "grading"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("changes/<int:change_id>/", views.change_detail, name="change"),
    path("changes/<int:change_id>/<slug:decision>/", views.decide, name="decide"),
    path("resources/<int:resource_id>/propose/", views.propose, name="propose"),
]
