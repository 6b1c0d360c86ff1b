//! Every typed method against the sandbox portal, over both auth styles.

use crate::common;

use std::collections::BTreeMap;

use b24pay_sandbox::NewPayment;
use bitrix24_client::{
    EntityRegistryType, HandlerUpdate, ListQuery, PayInvoice, PayPayment, PaySystemRef,
    PaySystemUpdate, Provider, PsExtras, Retry, SettingValue, SettingsUpdate, SortOrder,
};
use common::{b24pay_handler, b24pay_paysystem, Style, STYLES};
use serde_json::{json, Value};

#[tokio::test]
async fn handler_methods_round_trip() {
    for style in STYLES {
        let sandbox = common::sandbox().await;
        let client = common::client(&sandbox, style);
        let sent = b24pay_handler("b24pay", "http://localhost:8080/");

        let id = client
            .handler_add(&sent, Retry::IfNotExecuted)
            .await
            .unwrap();
        let listed = client.handler_list().await.unwrap();
        assert_eq!(listed.len(), 1, "{style:?}");
        let h = &listed[0];
        assert_eq!(
            (h.id, h.name.as_str(), h.code.as_str(), h.sort),
            (id, "b24pay cards", "b24pay", Some(100))
        );
        // What the portal stored is what was sent, including defaults.
        // Order matters too: the portal shows ENUM OPTIONS in the order given.
        assert_eq!(
            h.settings.clone().unwrap(),
            sent.settings.clone(),
            "{style:?}"
        );

        let mut settings = sent.settings.clone();
        settings.iframe_data.as_mut().unwrap().action_uri = "https://pay.example/".into();
        let update = HandlerUpdate {
            name: Some("b24pay v2".into()),
            settings: Some(settings.clone()),
            ..Default::default()
        };
        assert!(client.handler_update(id, &update).await.unwrap());
        let h = client.handler_list().await.unwrap().remove(0);
        assert_eq!(h.name, "b24pay v2");
        assert_eq!(
            h.settings.unwrap().iframe_data.unwrap().action_uri,
            "https://pay.example/"
        );

        assert!(client
            .handler_delete(id, Retry::IfNotExecuted)
            .await
            .unwrap());
        assert!(client.handler_list().await.unwrap().is_empty(), "{style:?}");
        sandbox.shutdown().await;
    }
}

#[tokio::test]
async fn paysystem_methods_round_trip() {
    for style in STYLES {
        let sandbox = common::sandbox().await;
        let client = common::client(&sandbox, style);
        let (_, ps) = common::setup_order_paysystem(&client).await;

        let all = client.paysystem_list(&ListQuery::all()).await.unwrap();
        assert_eq!(all.len(), 1);
        let p = &all[0];
        assert_eq!(p.id, Some(ps));
        assert_eq!(p.name.as_deref(), Some("Cards (b24pay)"));
        assert_eq!(p.active, Some(true));
        assert_eq!(p.person_type_id, Some(1));
        assert_eq!(p.handler_code(), Some("b24pay"));
        assert_eq!(p.registry(), Some(EntityRegistryType::Order));
        assert_eq!(p.xml_id.as_deref(), Some("b24pay-1"));
        assert_eq!(p.new_window, Some(false));

        // A second, inactive pay system for the legacy-invoice registry.
        let mut invoice_ps = b24pay_paysystem("b24pay", EntityRegistryType::CrmInvoice, 3);
        invoice_ps.active = None;
        let ps2 = client
            .paysystem_add(&invoice_ps, Retry::IfNotExecuted)
            .await
            .unwrap();
        let query = ListQuery {
            select: vec![
                "ID".into(),
                "NAME".into(),
                "ACTIVE".into(),
                "ENTITY_REGISTRY_TYPE".into(),
            ],
            order: BTreeMap::from([("ID".to_string(), SortOrder::Desc)]),
            ..ListQuery::default()
        };
        let listed = client.paysystem_list(&query).await.unwrap();
        assert_eq!(
            listed.iter().map(|p| p.id.unwrap()).collect::<Vec<_>>(),
            vec![ps2, ps]
        );
        assert_eq!(listed[0].active, Some(false), "ACTIVE defaults to N");
        assert_eq!(listed[0].registry(), Some(EntityRegistryType::CrmInvoice));
        assert_eq!(listed[0].person_type_id, None, "not selected");

        let filtered = client
            .paysystem_list(&ListQuery::all().filter("=XML_ID", "b24pay-3"))
            .await
            .unwrap();
        assert_eq!(
            filtered.iter().map(|p| p.id.unwrap()).collect::<Vec<_>>(),
            vec![ps2]
        );

        let update = PaySystemUpdate {
            name: Some("Cards".into()),
            active: Some(true),
            ..PaySystemUpdate::new("b24pay", 3)
        };
        assert!(client.paysystem_update(ps2, &update).await.unwrap());
        let p2 = client
            .paysystem_list(&ListQuery::all().filter("ID", ps2))
            .await
            .unwrap()
            .remove(0);
        assert_eq!((p2.name.as_deref(), p2.active), (Some("Cards"), Some(true)));

        assert!(client
            .paysystem_delete(ps2, Retry::IfNotExecuted)
            .await
            .unwrap());
        assert!(client
            .paysystem_delete(ps, Retry::IfNotExecuted)
            .await
            .unwrap());
        assert!(
            client
                .paysystem_list(&ListQuery::all())
                .await
                .unwrap()
                .is_empty(),
            "{style:?}"
        );
        sandbox.shutdown().await;
    }
}

#[tokio::test]
async fn settings_methods() {
    for style in STYLES {
        let sandbox = common::sandbox().await;
        let client = common::client(&sandbox, style);
        let (_, ps) = common::setup_order_paysystem(&client).await;

        let settings = client.settings_get(ps, 1).await.unwrap();
        assert_eq!(
            settings["B24PAY_SHOP_ID"],
            SettingValue::value("shop-42"),
            "{style:?}"
        );
        assert_eq!(
            settings["B24PAY_PAYMENT_SUM"],
            SettingValue::from_payment("SUM"),
            "handler default"
        );
        assert_eq!(settings["B24PAY_ORDER_ID"].provider, Provider::Order);

        let update = SettingsUpdate {
            id: ps,
            person_type_id: Some(1),
            settings: BTreeMap::from([(
                "B24PAY_SHOP_ID".to_string(),
                SettingValue::value("shop-43"),
            )]),
        };
        assert!(client.settings_update(&update).await.unwrap());
        assert_eq!(
            client.settings_get(ps, 1).await.unwrap()["B24PAY_SHOP_ID"].value,
            "shop-43"
        );

        let created = sandbox
            .create_payment(NewPayment::order("1250.50", "EUR").with_pay_system(ps))
            .unwrap();
        let values = client
            .settings_payment_get(created.payment_id, ps)
            .await
            .unwrap();
        let snapshot = sandbox.payment(created.payment_id).unwrap();
        assert_eq!(values["B24PAY_SHOP_ID"], "shop-43");
        assert_eq!(values["B24PAY_SECRET_KEY"], "sk_test_very_secret");
        assert_eq!(values["B24PAY_PAYMENT_CURRENCY"], "EUR");
        assert_eq!(values["B24PAY_PAYMENT_PAID"], "N");
        assert_eq!(values["B24PAY_PAYMENT_NUMBER"], snapshot.account_number);
        assert_eq!(values["B24PAY_ORDER_ID"], created.order_id.to_string());
        let sum: f64 = values["B24PAY_PAYMENT_SUM"].parse().unwrap();
        assert_eq!(sum, 1250.5);
        sandbox.shutdown().await;
    }
}

#[tokio::test]
async fn pay_payment_marks_paid_and_stores_extras() {
    for style in STYLES {
        let sandbox = common::sandbox().await;
        let client = common::client(&sandbox, style);
        let (_, ps) = common::setup_order_paysystem(&client).await;
        let created = sandbox
            .create_payment(NewPayment::order("49.99", "USD").with_pay_system(ps))
            .unwrap();

        let pay = PayPayment {
            payment_id: created.payment_id,
            paysystem_id: ps,
            extras: PsExtras {
                ps_invoice_id: Some("txn_0001".into()),
                ps_status_code: Some("approved".into()),
                ps_status_description: Some("Approved by test acquirer".into()),
                ps_status_message: Some("OK".into()),
                ps_sum: Some("49.99".into()),
                ps_currency: Some("USD".into()),
                ps_card_number: Some("424242******4242".into()),
                ps_recurring_token: Some("rec_tok_1".into()),
            },
        };
        assert!(client
            .pay_payment(&pay, Retry::IfNotExecuted)
            .await
            .unwrap());
        let p = sandbox.payment(created.payment_id).unwrap();
        assert!(p.paid, "{style:?}");
        assert_eq!(p.pay_calls, 1);
        assert_eq!(p.ps.invoice_id.as_deref(), Some("txn_0001"));
        assert_eq!(p.ps.status_code.as_deref(), Some("approved"));
        assert_eq!(
            p.ps.status_description.as_deref(),
            Some("Approved by test acquirer")
        );
        assert_eq!(p.ps.status_message.as_deref(), Some("OK"));
        assert_eq!(
            p.ps.sum.as_deref().map(|s| s.parse::<f64>().unwrap()),
            Some(49.99)
        );
        assert_eq!(p.ps.currency.as_deref(), Some("USD"));
        assert_eq!(p.ps.card_number.as_deref(), Some("424242******4242"));
        assert_eq!(p.ps.recurring_token.as_deref(), Some("rec_tok_1"));
        // Re-reading the payment confirms the portal saved it.
        let values = client
            .settings_payment_get(created.payment_id, ps)
            .await
            .unwrap();
        assert_eq!(values["B24PAY_PAYMENT_PAID"], "Y");
        sandbox.shutdown().await;
    }
}

#[tokio::test]
async fn legacy_invoice_methods() {
    for style in STYLES {
        let sandbox = common::sandbox().await;
        let client = common::client(&sandbox, style);
        client
            .handler_add(
                &b24pay_handler("b24pay", "http://localhost:8080/"),
                Retry::IfNotExecuted,
            )
            .await
            .unwrap();
        let ps = client
            .paysystem_add(
                &b24pay_paysystem("b24pay", EntityRegistryType::CrmInvoice, 3),
                Retry::IfNotExecuted,
            )
            .await
            .unwrap();
        let created = sandbox
            .create_payment(NewPayment::invoice("990.00", "USD").with_pay_system(ps))
            .unwrap();
        let invoice_id = created.order_id;

        let by_id = client
            .settings_invoice_get(invoice_id, &PaySystemRef::Id(ps))
            .await
            .unwrap();
        let by_code = client
            .settings_invoice_get(invoice_id, &PaySystemRef::Handler("b24pay".into()))
            .await
            .unwrap();
        assert_eq!(by_id, by_code, "{style:?}");
        assert_eq!(by_id["B24PAY_ORDER_ID"], invoice_id.to_string());
        assert_eq!(by_id["B24PAY_SECRET_KEY"], "sk_test_very_secret");

        let pay = PayInvoice {
            invoice_id,
            pay_system: PaySystemRef::Handler("b24pay".into()),
        };
        assert!(client
            .pay_invoice(&pay, Retry::IfNotExecuted)
            .await
            .unwrap());
        let payment = sandbox.payment(created.payment_id).unwrap();
        assert!(payment.paid);
        assert_eq!(payment.pay_calls, 1);

        let created2 = sandbox
            .create_payment(NewPayment::invoice("10.00", "USD").with_pay_system(ps))
            .unwrap();
        let pay = PayInvoice {
            invoice_id: created2.order_id,
            pay_system: PaySystemRef::Id(ps),
        };
        assert!(client.pay_invoice(&pay, Retry::Safe).await.unwrap());
        assert!(sandbox.payment(created2.payment_id).unwrap().paid);
        sandbox.shutdown().await;
    }
}

#[tokio::test]
async fn generic_call_escape_hatch() {
    for style in STYLES {
        let sandbox = common::sandbox().await;
        let client = common::client(&sandbox, style);
        let (handler, _) = common::setup_order_paysystem(&client).await;
        let raw: Value = client
            .call("sale.paysystem.handler.list", &json!({}), Retry::Safe)
            .await
            .unwrap();
        assert_eq!(
            raw[0]["ID"],
            json!(handler.to_string()),
            "ids are strings on the wire"
        );
        assert_eq!(raw[0]["CODE"], json!("b24pay"));
        // Case-insensitive parameter names, as on the portal.
        let ok: bool = client
            .call(
                "sale.paysystem.update",
                &json!({"id": 1, "fields": {"name": "Renamed", "bx_rest_handler": "b24pay", "person_type_id": 1}}),
                Retry::Safe,
            )
            .await
            .unwrap();
        assert!(ok);
        let names: Vec<String> = client
            .paysystem_list(&ListQuery::all())
            .await
            .unwrap()
            .into_iter()
            .filter_map(|p| p.name)
            .collect();
        assert_eq!(names, vec!["Renamed".to_string()], "{style:?}");
        // Params must be a JSON object.
        let err = client
            .call::<_, Value>("sale.paysystem.list", &json!([1]), Retry::Safe)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "CONFIG");
        let err = client
            .call::<_, Value>("../admin", &json!({}), Retry::Safe)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "CONFIG");
        sandbox.shutdown().await;
    }
}

#[test]
fn styles_cover_both() {
    assert_eq!(STYLES, [Style::Webhook, Style::OAuth]);
}
