"""A checkout worker that stops inside the order's transaction (see pause.py), to be SIGKILLed there.

Started by tests/system/test_faults.py with DATABASE_URL pointing at the test
database, FAULT_PAUSE_FLAG naming the flag file, and a JSON argument naming
the user, cart and address; it runs the real ``orders.checkout.place_order``.
"""
import json
import os
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "amazon_site.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402

from orders import checkout  # noqa: E402
from orders.models import Address  # noqa: E402
from orders.payments import Card, TestGateway  # noqa: E402
from tests.system.faults.pause import pause_inside_order_transaction  # noqa: E402

pause_inside_order_transaction(os.environ["FAULT_PAUSE_FLAG"])
args = json.loads(sys.argv[1])
checkout.place_order(
    user=get_user_model().objects.get(pk=args["user"]),
    cart_id=args["cart"],
    address=Address.objects.get(pk=args["address"]),
    card=Card(TestGateway.SUCCEEDS, 12, 2099, "123"),
    checkout_key=args["checkout_key"],
    expected_total=Decimal(args["expected_total"]),
)
print("finished", flush=True)  # not reached while the flag file exists: the test kills the process first
