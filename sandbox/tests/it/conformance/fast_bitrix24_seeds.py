"""The seed reference pages' calls, sent by fast-bitrix24 (an official-style Bitrix24 SDK from
PyPI, unmodified) to the sandbox over HTTPS. Every `call()` of fast-bitrix24 goes through
`batch`; `get_all()` of a list method sends the list call itself.

Usage: python fast_bitrix24_seeds.py WEBHOOK_URL SANDBOX_BASE_URL
The sandbox's CA must be trusted (SSL_CERT_FILE). Prints one JSON object with the results.
"""

import asyncio
import json
import ssl
import sys
import urllib.request

from fast_bitrix24 import BitrixAsync

# sale.paysystem.handler.add, the IFrame example (002_a9025124424ef557.txt).
HANDLER = {
    "NAME": "Handler.Rest IFrame",
    "CODE": "resthandleriframe",
    "SORT": 100,
    "SETTINGS": {
        "CURRENCY": ["USD"],
        "CLIENT_TYPE": "b2c",
        "IFRAME_DATA": {
            "ACTION_URI": "http://example.com/payment_iframe.php",
            "FIELDS": {
                "serviceKey": {"CODE": "REST_SERVICE_KEY_IFRAME"},
                "serviceid": {"CODE": "REST_SERVICE_ID_IFRAME"},
            },
        },
        "CODES": {
            "REST_SERVICE_ID_IFRAME": {"NAME": "Store number", "DESCRIPTION": "Store number", "SORT": "100"},
            "REST_SERVICE_KEY_IFRAME": {"NAME": "Secret key", "DESCRIPTION": "Secret key", "SORT": "300"},
            "PS_WORK_MODE_IFRAME": {
                "NAME": "Payment system operating mode",
                "SORT": "1100",
                "INPUT": {"TYPE": "ENUM", "OPTIONS": {"TEST": "Test", "REGULAR": "Live"}},
            },
        },
    },
}

# sale.paysystem.add (000_6204541b772ed59c.txt), bound to the handler above.
PAY_SYSTEM = {
    "NAME": "Card Payment",
    "DESCRIPTION": "Easily pay for purchases with a card.",
    "XML_ID": "my_ps_id",
    "PERSON_TYPE_ID": 1,
    "BX_REST_HANDLER": "resthandleriframe",
    "ACTIVE": "Y",
    "ENTITY_REGISTRY_TYPE": "ORDER",
    "LOGOTYPE": "/* base64 image */",
    "NEW_WINDOW": "N",
    "SETTINGS": {
        "REST_SERVICE_ID_IFRAME": {"TYPE": "VALUE", "VALUE": "snum"},
        "REST_SERVICE_KEY_IFRAME": {"TYPE": "VALUE", "VALUE": "skey"},
    },
}

# A pay system for legacy invoices, so that pay.invoice (004_98ad6908b3621bfc.txt) has one.
INVOICE_PAY_SYSTEM = {
    "NAME": "Invoice card",
    "PERSON_TYPE_ID": 3,
    "BX_REST_HANDLER": "resthandleriframe",
    "ACTIVE": "Y",
    "ENTITY_REGISTRY_TYPE": "CRM_INVOICE",
}


def control_post(base, path, body):
    """A sandbox-only step (the customer picks how to pay), outside the SDK."""
    request = urllib.request.Request(
        base + "/sandbox/api" + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, context=ssl.create_default_context()) as reply:
        return json.load(reply)


def only(result):
    """fast-bitrix24 hands a single call's object result back keyed by its batch label."""
    if isinstance(result, dict) and len(result) == 1 and next(iter(result)).startswith("order"):
        return next(iter(result.values()))
    return result


async def main(webhook, base):
    b = BitrixAsync(webhook, verbose=False)
    out = {}
    out["handler_id"] = await b.call("sale.paysystem.handler.add", HANDLER)
    out["pay_system_id"] = await b.call("sale.paysystem.add", PAY_SYSTEM)
    out["invoice_pay_system_id"] = await b.call("sale.paysystem.add", INVOICE_PAY_SYSTEM)
    control_post(base, "/payments/1/pay-system", {"pay_system_id": out["pay_system_id"]})
    # sale.paysystem.settings.update (003_f05715a42b6c05f4.txt), with this pay system's ID.
    out["settings_update"] = await b.call(
        "sale.paysystem.settings.update",
        {
            "ID": out["pay_system_id"],
            "PERSON_TYPE_ID": 1,
            "SETTINGS": {"REST_SERVICE_KEY_IFRAME": {"TYPE": "VALUE", "VALUE": "NEW_KEY"}},
        },
    )
    out["payment_settings"] = only(
        await b.call(
            "sale.paysystem.settings.payment.get",
            {"PAYMENT_ID": 1, "PAY_SYSTEM_ID": out["pay_system_id"]},
        )
    )
    # sale.paysystem.pay.payment (001_2755e8b49f9df75d.txt).
    out["pay_payment"] = await b.call(
        "sale.paysystem.pay.payment", {"PAYMENT_ID": 1, "PAY_SYSTEM_ID": out["pay_system_id"]}
    )
    # sale.paysystem.pay.invoice (004_98ad6908b3621bfc.txt), invoice 2.
    out["pay_invoice"] = await b.call(
        "sale.paysystem.pay.invoice",
        {"INVOICE_ID": 2, "PAY_SYSTEM_ID": out["invoice_pay_system_id"]},
    )
    # Several items in one call: one batch with two commands.
    out["settings_get_both"] = list(
        await b.call(
            "sale.paysystem.settings.get",
            [
                {"ID": out["pay_system_id"], "PERSON_TYPE_ID": 1},
                {"ID": out["pay_system_id"], "PERSON_TYPE_ID": 2},
            ],
        )
    )
    out["pay_systems"] = await b.get_all("sale.paysystem.list", {"select": ["ID", "NAME", "ACTIVE"]})
    # A refused call raises, with the portal's error.
    try:
        await b.call("sale.paysystem.pay.payment", {"PAYMENT_ID": 3, "PAY_SYSTEM_ID": out["pay_system_id"]})
        out["refused"] = None
    except Exception as error:  # fast-bitrix24 raises ErrorInServerResponseException
        out["refused"] = str(error)
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
