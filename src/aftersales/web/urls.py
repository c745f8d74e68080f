"""URLs of the agent UI (namespace "web"). Every pattern here must appear in the permission
matrix of tests/test_permission_matrix.py, which fails when one is missing."""

from django.urls import path

from .views import (
    account,
    attachments,
    inbox,
    language_settings,
    notifications,
    replies,
    settings_security,
    tickets,
    translation_jobs,
    translations,
)

app_name = "web"
urlpatterns = [
    path("login/", account.LoginView.as_view(), name="login"),
    path("logout/", account.LogoutView.as_view(), name="logout"),
    path("", inbox.inbox, name="inbox"),
    path("bulk/", inbox.inbox_bulk, name="inbox_bulk"),
    path("views/", inbox.saved_view_create_view, name="saved_view_create"),
    path("views/<int:view_id>/delete/", inbox.saved_view_delete_view, name="saved_view_delete"),
    path("tickets/<int:ticket_id>/", tickets.ticket_page, name="ticket"),
    path("tickets/<int:ticket_id>/reply/", replies.ticket_reply_view, name="ticket_reply"),
    path("tickets/<int:ticket_id>/reply/translate/", replies.reply_translate_view, name="reply_translate"),
    path("tickets/<int:ticket_id>/reply/template/", replies.reply_template_view, name="reply_template"),
    path(
        "tickets/<int:ticket_id>/reply/variants/<int:variant_id>/approve/",
        replies.template_variant_approve_view,
        name="template_variant_approve",
    ),
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
    path(
        "tickets/<int:ticket_id>/messages/<int:message_id>/retranslate/",
        translations.message_retranslate_view,
        name="message_retranslate",
    ),
    path(
        "tickets/<int:ticket_id>/messages/<int:message_id>/correct/",
        translations.translation_correct_view,
        name="translation_correct",
    ),
    path(
        "tickets/<int:ticket_id>/messages/<int:message_id>/images/",
        attachments.message_images_view,
        name="message_images",
    ),
    path("attachments/<int:attachment_id>/", attachments.attachment_view, name="attachment"),
    path("translation-jobs/", translation_jobs.translation_job_create_view, name="translation_job_create"),
    path("translation-jobs/<int:job_id>/", translation_jobs.translation_job_view, name="translation_job"),
    path("notifications/", notifications.notifications_page, name="notifications"),
    path("notifications/badge/", notifications.notifications_badge, name="notifications_badge"),
    path("notifications/read/", notifications.notifications_mark_read, name="notifications_read"),
    path("notifications/<int:notification_id>/", notifications.notification_open, name="notification_open"),
    path("settings/", account.settings_page, name="settings"),
    path("settings/language/", account.settings_language, name="settings_language"),
    path("settings/tokens/", account.token_create, name="token_create"),
    path("settings/tokens/<int:token_id>/revoke/", account.token_revoke, name="token_revoke"),
    path("settings/security/", settings_security.settings_security, name="settings_security"),
    path(
        "settings/security/<int:user_id>/unlock/",
        settings_security.settings_security_unlock,
        name="settings_security_unlock",
    ),
    path("settings/glossary/", language_settings.glossary_import_view, name="glossary_import"),
    path("settings/glossary.csv", language_settings.glossary_export_view, name="glossary_export"),
    path("settings/providers/", language_settings.translation_providers_view, name="translation_providers"),
]
