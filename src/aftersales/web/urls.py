"""URLs of the agent UI (namespace "web"). Every pattern here must appear in the permission
matrix of tests/test_permission_matrix.py, which fails when one is missing."""

from django.urls import path

from .views import account, inbox, notifications, tickets

app_name = "web"
urlpatterns = [
    path("login/", account.LoginView.as_view(), name="login"),
    path("logout/", account.LogoutView.as_view(), name="logout"),
    path("", inbox.inbox, name="inbox"),
    path("bulk/", inbox.inbox_bulk, name="inbox_bulk"),
    path("views/", inbox.saved_view_create_view, name="saved_view_create"),
    path("views/<int:view_id>/delete/", inbox.saved_view_delete_view, name="saved_view_delete"),
    path("tickets/<int:ticket_id>/", tickets.ticket_page, name="ticket"),
    path("tickets/<int:ticket_id>/reply/", tickets.ticket_reply_view, name="ticket_reply"),
    path("tickets/<int:ticket_id>/note/", tickets.ticket_note_view, name="ticket_note"),
    path("tickets/<int:ticket_id>/status/", tickets.ticket_status_view, name="ticket_status"),
    path("tickets/<int:ticket_id>/assign/", tickets.ticket_assign_view, name="ticket_assign"),
    path("tickets/<int:ticket_id>/fields/", tickets.ticket_fields_view, name="ticket_fields"),
    path("tickets/<int:ticket_id>/tags/", tickets.ticket_tags_view, name="ticket_tags"),
    path("tickets/<int:ticket_id>/merge/", tickets.ticket_merge_view, name="ticket_merge"),
    path(
        "tickets/<int:ticket_id>/messages/<int:message_id>/retry/",
        tickets.message_retry_view,
        name="message_retry",
    ),
    path("notifications/", notifications.notifications_page, name="notifications"),
    path("notifications/badge/", notifications.notifications_badge, name="notifications_badge"),
    path("notifications/read/", notifications.notifications_mark_read, name="notifications_read"),
    path("notifications/<int:notification_id>/", notifications.notification_open, name="notification_open"),
    path("settings/", account.settings_page, name="settings"),
    path("settings/language/", account.settings_language, name="settings_language"),
    path("settings/tokens/", account.token_create, name="token_create"),
    path("settings/tokens/<int:token_id>/revoke/", account.token_revoke, name="token_revoke"),
]
