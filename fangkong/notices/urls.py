from django.urls import path

from fangkong.notices import views

app_name = "notices"
urlpatterns = [
    path("", views.notice_list, name="list"),
    path("new/", views.notice_new, name="new"),
    path("<int:notice_id>/", views.notice_detail, name="detail"),
    path("<int:notice_id>/ack/", views.notice_ack, name="ack"),
    path("<int:notice_id>/receipts/", views.notice_receipts, name="receipts"),
    path("<int:notice_id>/files/<int:attachment_id>/", views.attachment, name="attachment"),
]
