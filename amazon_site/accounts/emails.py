"""The mail that confirms a claimed address, sent by Celery after the claim commits."""
from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from .confirmation import make_token
from .models import EmailAddress


def send_confirmation(address_id, base_url: str) -> None:
    address = EmailAddress.objects.select_related("user").filter(pk=address_id, confirmed_at__isnull=True).first()
    if address is None:
        return  # confirmed or replaced meanwhile
    link = base_url.rstrip("/") + reverse("email-confirm", args=[make_token(address)])
    context = {"user": address.user, "email": address.email, "link": link, "days": settings.EMAIL_CONFIRMATION_DAYS}
    mail = EmailMultiAlternatives(
        "Confirm your e-mail address",
        render_to_string("accounts/email/confirm.txt", context),
        settings.DEFAULT_FROM_EMAIL,
        [address.email],
    )
    mail.attach_alternative(render_to_string("accounts/email/confirm.html", context), "text/html")
    mail.send()


@shared_task(name="accounts.send_email_confirmation")
def confirmation_task(address_id, base_url):
    send_confirmation(address_id, base_url)
