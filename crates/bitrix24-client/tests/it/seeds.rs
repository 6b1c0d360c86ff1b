//! The documentation's example requests (`/work/shared/seeds/`, the `curl -d` bodies of the
//! webhook examples, verbatim): each parses into the client's typed request, serialises back
//! to the same request (up to the portal's numbers-as-strings), and is accepted by the sandbox
//! with the documented result.

use crate::common;

use b24pay_sandbox::Registry;
use bitrix24_client::{
    EntityRegistryType, FieldCode, HandlerAdd, InputType, PayInvoice, PayPayment, PaySystemAdd,
    PaySystemRef, Provider, Retry, SettingsUpdate,
};
use common::Style;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

const HANDLER_ADD_FORM: &str = r#"{"NAME":"Handler.Rest FORM","CODE":"resthandlerform","SORT":100,"SETTINGS":{"CURRENCY":["USD"],"CLIENT_TYPE":"b2c","FORM_DATA":{"ACTION_URI":"http://example.com/payment_form.php","METHOD":"POST","FIELDS":{"phone":{"VISIBLE":"Y","CODE":{"NAME":"Phone number","TYPE":"STRING"}},"selection":{"VISIBLE":"Y","CODE":{"NAME":"Selection illusion","INPUT":{"TYPE":"Y/N"}}},"paymentId":{"CODE":"PAYMENT_ID","VISIBLE":"Y"},"serviceid":{"CODE":"REST_SERVICE_ID"}}},"CODES":{"REST_SERVICE_ID":{"NAME":"Store number","DESCRIPTION":"Store number","SORT":"100"},"REST_SERVICE_KEY":{"NAME":"Secret key","DESCRIPTION":"Secret key","SORT":"300"},"PAYMENT_ID":{"NAME":"Payment number","SORT":"400","GROUP":"PAYMENT","DEFAULT":{"PROVIDER_KEY":"PAYMENT","PROVIDER_VALUE":"ACCOUNT_NUMBER"}},"PAYMENT_SHOULD_PAY":{"NAME":"Payment amount","SORT":"600","GROUP":"PAYMENT","DEFAULT":{"PROVIDER_KEY":"PAYMENT","PROVIDER_VALUE":"SUM"}},"PS_CHANGE_STATUS_PAY":{"NAME":"Automatic payment status change","SORT":"700","INPUT":{"TYPE":"Y/N"}},"PAYMENT_BUYER_ID":{"NAME":"Customer code","SORT":"1000","GROUP":"PAYMENT","DEFAULT":{"PROVIDER_KEY":"ORDER","PROVIDER_VALUE":"USER_ID"}},"PS_WORK_MODE":{"NAME":"Payment system operating mode","SORT":"1100","INPUT":{"TYPE":"ENUM","OPTIONS":{"TEST":"Test","REGULAR":"Live"}}}}}}"#;
const HANDLER_ADD_CHECKOUT: &str = r#"{"NAME":"Handler.Rest CHECKOUT","CODE":"resthandlercheckout","SORT":100,"SETTINGS":{"CURRENCY":["USD"],"CLIENT_TYPE":"b2c","CHECKOUT_DATA":{"ACTION_URI":"http://example.com/payment_checkout.php","FIELDS":{"serviceKey":{"CODE":"REST_SERVICE_KEY_CHECKOUT"},"serviceid":{"CODE":"REST_SERVICE_ID_CHECKOUT"}}},"CODES":{"REST_SERVICE_ID_CHECKOUT":{"NAME":"Store number","DESCRIPTION":"Store number","SORT":"100"},"REST_SERVICE_KEY_CHECKOUT":{"NAME":"Secret key","DESCRIPTION":"Secret key","SORT":"300"},"PS_WORK_MODE_CHECKOUT":{"NAME":"Payment system operating mode","SORT":"1100","INPUT":{"TYPE":"ENUM","OPTIONS":{"TEST":"Test","REGULAR":"Live"}}}}}}"#;
const HANDLER_ADD_IFRAME: &str = r#"{"NAME":"Handler.Rest IFrame","CODE":"resthandleriframe","SORT":100,"SETTINGS":{"CURRENCY":["USD"],"CLIENT_TYPE":"b2c","IFRAME_DATA":{"ACTION_URI":"http://example.com/payment_iframe.php","FIELDS":{"serviceKey":{"CODE":"REST_SERVICE_KEY_IFRAME"},"serviceid":{"CODE":"REST_SERVICE_ID_IFRAME"}}},"CODES":{"REST_SERVICE_ID_IFRAME":{"NAME":"Store number","DESCRIPTION":"Store number","SORT":"100"},"REST_SERVICE_KEY_IFRAME":{"NAME":"Secret key","DESCRIPTION":"Secret key","SORT":"300"},"PS_WORK_MODE_IFRAME":{"NAME":"Payment system operating mode","SORT":"1100","INPUT":{"TYPE":"ENUM","OPTIONS":{"TEST":"Test","REGULAR":"Live"}}}}}}"#;
const PAYSYSTEM_ADD: &str = r#"{"NAME":"Card Payment","DESCRIPTION":"Easily pay for purchases with a card.","XML_ID":"my_ps_id","PERSON_TYPE_ID":1,"BX_REST_HANDLER":"resthandlercode","ACTIVE":"Y","ENTITY_REGISTRY_TYPE":"ORDER","LOGOTYPE":"/* base64 image */","NEW_WINDOW":"N","SETTINGS":{"REST_SERVICE_ID":{"TYPE":"VALUE","VALUE":"SERVICE ID VALUE"},"REST_SERVICE_KEY":{"TYPE":"VALUE","VALUE":"KEY ID VALUE"},"PAYMENT_ID":{"TYPE":"PAYMENT","VALUE":"ACCOUNT_NUMBER"}}}"#;
const PAY_PAYMENT: &str = r#"{"PAYMENT_ID":1,"PAY_SYSTEM_ID":1}"#;
const SETTINGS_UPDATE: &str = r#"{"ID":11,"PERSON_TYPE_ID":1,"SETTINGS":{"REST_SERVICE_KEY_IFRAME":{"TYPE":"VALUE","VALUE":"NEW_KEY"}}}"#;
const PAY_INVOICE: &str = r#"{"INVOICE_ID":2,"PAY_SYSTEM_ID":31}"#;

/// The portal does not distinguish `100` from `"100"`: compare with every scalar as text.
fn normalise(v: Value) -> Value {
    match v {
        Value::Number(n) => Value::String(n.to_string()),
        Value::Array(items) => Value::Array(items.into_iter().map(normalise).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, normalise(v))).collect())
        }
        other => other,
    }
}

/// Parses a seed into `T` and checks that nothing was lost on the way back.
fn typed<T: DeserializeOwned + Serialize>(seed: &str) -> T {
    let typed: T = serde_json::from_str(seed).unwrap_or_else(|e| panic!("{e}: {seed}"));
    let back = serde_json::to_value(&typed).unwrap();
    let original: Value = serde_json::from_str(seed).unwrap();
    assert_eq!(normalise(back), normalise(original), "round trip of {seed}");
    typed
}

#[test]
fn seeds_are_expressible_as_typed_requests() {
    let form: HandlerAdd = typed(HANDLER_ADD_FORM);
    let form_data = form.settings.form_data.as_ref().unwrap();
    assert_eq!(form_data.method.as_deref(), Some("POST"));
    assert!(
        matches!(&form_data.fields["paymentId"].code, FieldCode::Setting(c) if c == "PAYMENT_ID")
    );
    assert!(matches!(
        &form_data.fields["phone"].code,
        FieldCode::Custom(f) if f.input_type == Some(InputType::String)
    ));
    assert_eq!(form_data.fields["phone"].visible, Some(true));
    assert_eq!(
        form.settings.codes["PAYMENT_SHOULD_PAY"]
            .default
            .as_ref()
            .unwrap()
            .provider_key,
        Provider::Payment
    );
    assert_eq!(form.settings.codes["PS_WORK_MODE"].sort, Some(1100));
    let options = &form.settings.codes["PS_WORK_MODE"]
        .input
        .as_ref()
        .unwrap()
        .options;
    assert_eq!(
        options.as_ref().unwrap().0,
        vec![
            ("TEST".into(), "Test".into()),
            ("REGULAR".into(), "Live".into())
        ]
    );

    let checkout: HandlerAdd = typed(HANDLER_ADD_CHECKOUT);
    assert!(checkout.settings.checkout_data.is_some());
    let iframe: HandlerAdd = typed(HANDLER_ADD_IFRAME);
    assert_eq!(
        iframe.settings.iframe_data.as_ref().unwrap().action_uri,
        "http://example.com/payment_iframe.php"
    );

    let ps: PaySystemAdd = typed(PAYSYSTEM_ADD);
    assert_eq!(ps.entity_registry_type, Some(EntityRegistryType::Order));
    assert_eq!((ps.active, ps.new_window), (Some(true), Some(false)));
    let pay: PayPayment = typed(PAY_PAYMENT);
    assert_eq!((pay.payment_id, pay.paysystem_id), (1, 1));
    let update: SettingsUpdate = typed(SETTINGS_UPDATE);
    assert_eq!(update.settings["REST_SERVICE_KEY_IFRAME"].value, "NEW_KEY");
    let invoice: PayInvoice = typed(PAY_INVOICE);
    assert_eq!(invoice.pay_system, PaySystemRef::Id(31));
}

#[tokio::test]
async fn sandbox_accepts_the_seed_requests() {
    for style in common::STYLES {
        let sandbox = common::sandbox().await;
        let client = common::client(&sandbox, style);

        // sale.paysystem.handler.add, all three modes: the result is the new handler's id.
        let mut ids = Vec::new();
        for seed in [HANDLER_ADD_FORM, HANDLER_ADD_CHECKOUT, HANDLER_ADD_IFRAME] {
            ids.push(
                client
                    .handler_add(&typed(seed), Retry::IfNotExecuted)
                    .await
                    .unwrap(),
            );
        }
        ids.dedup();
        assert_eq!(ids.len(), 3, "{style:?}");
        // The pay-system example refers to a handler coded `resthandlercode` with the FORM
        // example's settings.
        let mut form: HandlerAdd = typed(HANDLER_ADD_FORM);
        form.code = "resthandlercode".into();
        client
            .handler_add(&form, Retry::IfNotExecuted)
            .await
            .unwrap();
        let listed = client.handler_list().await.unwrap();
        assert_eq!(listed.len(), 4);
        let iframe = listed
            .iter()
            .find(|h| h.code == "resthandleriframe")
            .unwrap();
        let sent: HandlerAdd = typed(HANDLER_ADD_IFRAME);
        assert_eq!(
            iframe.settings.as_ref().unwrap().iframe_data,
            sent.settings.iframe_data
        );

        // sale.paysystem.add → 1 (the documented response).
        let ps = client
            .paysystem_add(&typed(PAYSYSTEM_ADD), Retry::IfNotExecuted)
            .await
            .unwrap();
        assert_eq!(ps, 1);

        // sale.paysystem.pay.payment {PAYMENT_ID:1, PAY_SYSTEM_ID:1} → true. Payment 1 is the
        // sandbox's first ORDER payment; bind it to pay system 1 as a customer's choice would.
        sandbox.set_payment_pay_system(1, 1).unwrap();
        assert!(client
            .pay_payment(&typed(PAY_PAYMENT), Retry::IfNotExecuted)
            .await
            .unwrap());
        assert!(sandbox.payment(1).unwrap().paid);

        // sale.paysystem.settings.update for pay system 11 (IFRAME handler, payer type 1).
        let mut iframe_ps: PaySystemAdd = typed(PAYSYSTEM_ADD);
        iframe_ps.bx_rest_handler = "resthandleriframe".into();
        iframe_ps.settings = None;
        iframe_ps.xml_id = None;
        while client
            .paysystem_add(&iframe_ps, Retry::IfNotExecuted)
            .await
            .unwrap()
            < 11
        {}
        assert!(client
            .settings_update(&typed(SETTINGS_UPDATE))
            .await
            .unwrap());
        let settings = client.settings_get(11, 1).await.unwrap();
        assert_eq!(settings["REST_SERVICE_KEY_IFRAME"].value, "NEW_KEY");

        // sale.paysystem.pay.invoice for invoice 2 through pay system 31 (a CRM_INVOICE one).
        let mut invoice_ps = iframe_ps.clone();
        invoice_ps.entity_registry_type = Some(EntityRegistryType::CrmInvoice);
        invoice_ps.person_type_id = 3;
        while client
            .paysystem_add(&invoice_ps, Retry::IfNotExecuted)
            .await
            .unwrap()
            < 31
        {}
        let payment = sandbox.invoice_payment_id(2).unwrap();
        assert_eq!(
            sandbox.payment(payment).unwrap().registry,
            Registry::CrmInvoice
        );
        sandbox.set_payment_pay_system(payment, 31).unwrap();
        assert!(client
            .pay_invoice(&typed(PAY_INVOICE), Retry::IfNotExecuted)
            .await
            .unwrap());
        assert!(sandbox.payment(payment).unwrap().paid, "{style:?}");
        sandbox.shutdown().await;
    }
}

#[test]
fn style_list_is_shared() {
    assert!(common::STYLES.contains(&Style::OAuth));
}
