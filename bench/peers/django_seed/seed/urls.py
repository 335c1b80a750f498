from django.urls import path

from . import views

urlpatterns = [
    path("ab_dy/", views.ab_dy),
    path("ab_b1/", views.ab_b1),
    path("send_msg/", views.send_msg),
    path("get_msg/", views.get_msg),
]
