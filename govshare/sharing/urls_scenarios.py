from django.urls import path

from govshare.sharing import views_scenarios as views

urlpatterns = [
    path("scenarios/", views.scenario_list, name="scenario_list"),
    path("scenarios/new/", views.scenario_create, name="scenario_create"),
    path("scenarios/review/", views.review_queue, name="scenario_review_queue"),
    path("scenarios/<int:scenario_id>/", views.scenario_detail, name="scenario_detail"),
    path("scenarios/<int:scenario_id>/edit/", views.scenario_edit, name="scenario_edit"),
    path("scenarios/<int:scenario_id>/<slug:action>/", views.scenario_action, name="scenario_action"),
]
