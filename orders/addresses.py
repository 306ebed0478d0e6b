"""The shopper's address book: add, edit, delete, and which address is the default (checkout offers it first).

Orders keep a copy of the address they were placed with, so editing or
deleting a saved address never changes an order. Every write finds the
address among the shopper's own, so another shopper's id is "no such address".
"""
from django.db import transaction

from .errors import OrderError, OrderErrorCode
from .models import Address


def _own(user, address_id, *, lock=False) -> Address:
    addresses = Address.objects.filter(user=user)
    address = (addresses.select_for_update() if lock else addresses).filter(pk=address_id).first()
    if address is None:
        raise OrderError("No such address in your address book.", OrderErrorCode.NOT_FOUND)
    return address


def add_address(*, user, data: dict) -> Address:
    """Save a new address (not the default: the shopper says which one is, as checkout's saves do not)."""
    address = Address(user=user, **data)
    address.full_clean()
    address.save()
    return address


def update_address(*, user, address_id, data: dict) -> Address:
    with transaction.atomic():
        address = _own(user, address_id, lock=True)
        for field, value in data.items():
            setattr(address, field, value)
        address.full_clean()
        address.save(update_fields=list(data))
    return address


def delete_address(*, user, address_id) -> None:
    """Delete an address; if it was the default, the newest remaining one takes its place."""
    with transaction.atomic():
        address = _own(user, address_id, lock=True)
        address.delete()
        if address.is_default:
            newest = Address.objects.filter(user=user).order_by("-created_at", "-id").first()
            if newest is not None:
                newest.is_default = True
                newest.save(update_fields=["is_default"])


def set_default(*, user, address_id) -> Address:
    """Make one address the default; the old default stops being one first (the index allows one)."""
    with transaction.atomic():
        address = _own(user, address_id, lock=True)
        Address.objects.filter(user=user, is_default=True).exclude(pk=address.pk).update(is_default=False)
        if not address.is_default:
            address.is_default = True
            address.save(update_fields=["is_default"])
    return address
