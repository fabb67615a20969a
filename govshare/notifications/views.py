"""The inbox page (消息): the signed-in user's notifications, newest first, paged; opening one marks it read and
goes to its link; one button marks them all read. Views parse input and call the selectors and services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from govshare.accounts.acting import acting_user
from govshare.core.errors import NotFound
from govshare.core.nostore import no_store
from govshare.core.pagination import page_number, paginate
from govshare.notifications import selectors, services


@login_required
@no_store
def inbox(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    unread_only = request.GET.get("unread") == "1"
    page = paginate(selectors.notifications_for(user, unread=unread_only), page_number(request.GET.get("page")), None)
    context = {"page": page, "unread_only": unread_only}
    return render(request, "notifications/inbox.html", context)


@login_required
@require_POST
def open_notification(request: HttpRequest, notification_id: int) -> HttpResponse:
    user = acting_user(request)
    try:
        notification = selectors.get_notification(user, notification_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    services.mark_read(notification, actor=user)
    if notification.link and services.is_site_path(notification.link):
        return redirect(notification.link)
    return redirect("notifications:inbox")


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    marked = services.mark_all_read(actor=acting_user(request))
    if marked:
        text = ngettext("已将 %(count)d 条消息标为已读", "已将 %(count)d 条消息标为已读", marked)
        messages.success(request, text % {"count": marked})
    else:
        messages.info(request, _("没有未读消息"))
    return redirect("notifications:inbox")
