//! The curl bodies of the seed reference pages (`../shared/seeds/`), copied verbatim.
//! Each pair is (webhook form, OAuth form); the method is the one the page documents.
//! Note: the six `sale.paysystem.handler.add` bodies are not valid JSON as published (the
//! top-level object is never closed; in the OAuth variants `auth` lands inside `SETTINGS`).
#![allow(dead_code)]

/// `sale.paysystem.add` (000_6204541b772ed59c.txt, webhook example).
pub const PAYSYSTEM_ADD_WEBHOOK: (&str, &str) = (
    "sale.paysystem.add",
    r#"{"NAME":"Card Payment","DESCRIPTION":"Easily pay for purchases with a card.","XML_ID":"my_ps_id","PERSON_TYPE_ID":1,"BX_REST_HANDLER":"resthandlercode","ACTIVE":"Y","ENTITY_REGISTRY_TYPE":"ORDER","LOGOTYPE":"/* base64 image */","NEW_WINDOW":"N","SETTINGS":{"REST_SERVICE_ID":{"TYPE":"VALUE","VALUE":"SERVICE ID VALUE"},"REST_SERVICE_KEY":{"TYPE":"VALUE","VALUE":"KEY ID VALUE"},"PAYMENT_ID":{"TYPE":"PAYMENT","VALUE":"ACCOUNT_NUMBER"}}}"#,
);
/// `sale.paysystem.add` (000_6204541b772ed59c.txt, OAuth example).
pub const PAYSYSTEM_ADD_OAUTH: (&str, &str) = (
    "sale.paysystem.add",
    r#"{"NAME":"Card Payment","DESCRIPTION":"Easily pay for purchases with a card.","XML_ID":"my_ps_id","PERSON_TYPE_ID":1,"BX_REST_HANDLER":"resthandlercode","ACTIVE":"Y","ENTITY_REGISTRY_TYPE":"ORDER","LOGOTYPE":"/* base64 image */","NEW_WINDOW":"N","SETTINGS":{"REST_SERVICE_ID":{"TYPE":"VALUE","VALUE":"SERVICE ID VALUE"},"REST_SERVICE_KEY":{"TYPE":"VALUE","VALUE":"KEY ID VALUE"},"PAYMENT_ID":{"TYPE":"PAYMENT","VALUE":"ACCOUNT_NUMBER"}},"auth":"**put_access_token_here**"}"#,
);

/// `sale.paysystem.pay.payment` (001_2755e8b49f9df75d.txt, webhook example).
pub const PAY_PAYMENT_WEBHOOK: (&str, &str) = (
    "sale.paysystem.pay.payment",
    r#"{"PAYMENT_ID":1,"PAY_SYSTEM_ID":1}"#,
);
/// `sale.paysystem.pay.payment` (001_2755e8b49f9df75d.txt, OAuth example).
pub const PAY_PAYMENT_OAUTH: (&str, &str) = (
    "sale.paysystem.pay.payment",
    r#"{"PAYMENT_ID":1,"PAY_SYSTEM_ID":1,"auth":"**put_access_token_here**"}"#,
);

/// `sale.paysystem.handler.add` (002_a9025124424ef557.txt, webhook example).
pub const HANDLER_ADD_FORM_WEBHOOK: (&str, &str) = (
    "sale.paysystem.handler.add",
    r#"{"NAME":"Handler.Rest FORM","CODE":"resthandlerform","SORT":100,"SETTINGS":{"CURRENCY":["USD"],"CLIENT_TYPE":"b2c","FORM_DATA":{"ACTION_URI":"http://example.com/payment_form.php","METHOD":"POST","FIELDS":{"phone":{"VISIBLE":"Y","CODE":{"NAME":"Phone number","TYPE":"STRING"}},"selection":{"VISIBLE":"Y","CODE":{"NAME":"Selection illusion","INPUT":{"TYPE":"Y/N"}}},"paymentId":{"CODE":"PAYMENT_ID","VISIBLE":"Y"},"serviceid":{"CODE":"REST_SERVICE_ID"}}},"CODES":{"REST_SERVICE_ID":{"NAME":"Store number","DESCRIPTION":"Store number","SORT":"100"},"REST_SERVICE_KEY":{"NAME":"Secret key","DESCRIPTION":"Secret key","SORT":"300"},"PAYMENT_ID":{"NAME":"Payment number","SORT":"400","GROUP":"PAYMENT","DEFAULT":{"PROVIDER_KEY":"PAYMENT","PROVIDER_VALUE":"ACCOUNT_NUMBER"}},"PAYMENT_SHOULD_PAY":{"NAME":"Payment amount","SORT":"600","GROUP":"PAYMENT","DEFAULT":{"PROVIDER_KEY":"PAYMENT","PROVIDER_VALUE":"SUM"}},"PS_CHANGE_STATUS_PAY":{"NAME":"Automatic payment status change","SORT":"700","INPUT":{"TYPE":"Y/N"}},"PAYMENT_BUYER_ID":{"NAME":"Customer code","SORT":"1000","GROUP":"PAYMENT","DEFAULT":{"PROVIDER_KEY":"ORDER","PROVIDER_VALUE":"USER_ID"}},"PS_WORK_MODE":{"NAME":"Payment system operating mode","SORT":"1100","INPUT":{"TYPE":"ENUM","OPTIONS":{"TEST":"Test","REGULAR":"Live"}}}}}"#,
);
/// `sale.paysystem.handler.add` (002_a9025124424ef557.txt, OAuth example).
pub const HANDLER_ADD_FORM_OAUTH: (&str, &str) = (
    "sale.paysystem.handler.add",
    r#"{"NAME":"Handler.Rest FORM","CODE":"resthandlerform","SORT":100,"SETTINGS":{"CURRENCY":["USD"],"CLIENT_TYPE":"b2c","FORM_DATA":{"ACTION_URI":"http://example.com/payment_form.php","METHOD":"POST","FIELDS":{"phone":{"VISIBLE":"Y","CODE":{"NAME":"Phone number","TYPE":"STRING"}},"selection":{"VISIBLE":"Y","CODE":{"NAME":"Selection illusion","INPUT":{"TYPE":"Y/N"}}},"paymentId":{"CODE":"PAYMENT_ID","VISIBLE":"Y"},"serviceid":{"CODE":"REST_SERVICE_ID"}}},"CODES":{"REST_SERVICE_ID":{"NAME":"Store number","DESCRIPTION":"Store number","SORT":"100"},"REST_SERVICE_KEY":{"NAME":"Secret key","DESCRIPTION":"Secret key","SORT":"300"},"PAYMENT_ID":{"NAME":"Payment number","SORT":"400","GROUP":"PAYMENT","DEFAULT":{"PROVIDER_KEY":"PAYMENT","PROVIDER_VALUE":"ACCOUNT_NUMBER"}},"PAYMENT_SHOULD_PAY":{"NAME":"Payment amount","SORT":"600","GROUP":"PAYMENT","DEFAULT":{"PROVIDER_KEY":"PAYMENT","PROVIDER_VALUE":"SUM"}},"PS_CHANGE_STATUS_PAY":{"NAME":"Automatic payment status change","SORT":"700","INPUT":{"TYPE":"Y/N"}},"PAYMENT_BUYER_ID":{"NAME":"Customer code","SORT":"1000","GROUP":"PAYMENT","DEFAULT":{"PROVIDER_KEY":"ORDER","PROVIDER_VALUE":"USER_ID"}},"PS_WORK_MODE":{"NAME":"Payment system operating mode","SORT":"1100","INPUT":{"TYPE":"ENUM","OPTIONS":{"TEST":"Test","REGULAR":"Live"}}}},"auth":"**put_access_token_here**"}"#,
);
/// `sale.paysystem.handler.add` (002_a9025124424ef557.txt, webhook example).
pub const HANDLER_ADD_CHECKOUT_WEBHOOK: (&str, &str) = (
    "sale.paysystem.handler.add",
    r#"{"NAME":"Handler.Rest CHECKOUT","CODE":"resthandlercheckout","SORT":100,"SETTINGS":{"CURRENCY":["USD"],"CLIENT_TYPE":"b2c","CHECKOUT_DATA":{"ACTION_URI":"http://example.com/payment_checkout.php","FIELDS":{"serviceKey":{"CODE":"REST_SERVICE_KEY_CHECKOUT"},"serviceid":{"CODE":"REST_SERVICE_ID_CHECKOUT"}}},"CODES":{"REST_SERVICE_ID_CHECKOUT":{"NAME":"Store number","DESCRIPTION":"Store number","SORT":"100"},"REST_SERVICE_KEY_CHECKOUT":{"NAME":"Secret key","DESCRIPTION":"Secret key","SORT":"300"},"PS_WORK_MODE_CHECKOUT":{"NAME":"Payment system operating mode","SORT":"1100","INPUT":{"TYPE":"ENUM","OPTIONS":{"TEST":"Test","REGULAR":"Live"}}}}}"#,
);
/// `sale.paysystem.handler.add` (002_a9025124424ef557.txt, OAuth example).
pub const HANDLER_ADD_CHECKOUT_OAUTH: (&str, &str) = (
    "sale.paysystem.handler.add",
    r#"{"NAME":"Handler.Rest CHECKOUT","CODE":"resthandlercheckout","SORT":100,"SETTINGS":{"CURRENCY":["USD"],"CLIENT_TYPE":"b2c","CHECKOUT_DATA":{"ACTION_URI":"http://example.com/payment_checkout.php","FIELDS":{"serviceKey":{"CODE":"REST_SERVICE_KEY_CHECKOUT"},"serviceid":{"CODE":"REST_SERVICE_ID_CHECKOUT"}}},"CODES":{"REST_SERVICE_ID_CHECKOUT":{"NAME":"Store number","DESCRIPTION":"Store number","SORT":"100"},"REST_SERVICE_KEY_CHECKOUT":{"NAME":"Secret key","DESCRIPTION":"Secret key","SORT":"300"},"PS_WORK_MODE_CHECKOUT":{"NAME":"Payment system operating mode","SORT":"1100","INPUT":{"TYPE":"ENUM","OPTIONS":{"TEST":"Test","REGULAR":"Live"}}}},"auth":"**put_access_token_here**"}"#,
);
/// `sale.paysystem.handler.add` (002_a9025124424ef557.txt, webhook example).
pub const HANDLER_ADD_IFRAME_WEBHOOK: (&str, &str) = (
    "sale.paysystem.handler.add",
    r#"{"NAME":"Handler.Rest IFrame","CODE":"resthandleriframe","SORT":100,"SETTINGS":{"CURRENCY":["USD"],"CLIENT_TYPE":"b2c","IFRAME_DATA":{"ACTION_URI":"http://example.com/payment_iframe.php","FIELDS":{"serviceKey":{"CODE":"REST_SERVICE_KEY_IFRAME"},"serviceid":{"CODE":"REST_SERVICE_ID_IFRAME"}}},"CODES":{"REST_SERVICE_ID_IFRAME":{"NAME":"Store number","DESCRIPTION":"Store number","SORT":"100"},"REST_SERVICE_KEY_IFRAME":{"NAME":"Secret key","DESCRIPTION":"Secret key","SORT":"300"},"PS_WORK_MODE_IFRAME":{"NAME":"Payment system operating mode","SORT":"1100","INPUT":{"TYPE":"ENUM","OPTIONS":{"TEST":"Test","REGULAR":"Live"}}}}}"#,
);
/// `sale.paysystem.handler.add` (002_a9025124424ef557.txt, OAuth example).
pub const HANDLER_ADD_IFRAME_OAUTH: (&str, &str) = (
    "sale.paysystem.handler.add",
    r#"{"NAME":"Handler.Rest IFrame","CODE":"resthandleriframe","SORT":100,"SETTINGS":{"CURRENCY":["USD"],"CLIENT_TYPE":"b2c","IFRAME_DATA":{"ACTION_URI":"http://example.com/payment_iframe.php","FIELDS":{"serviceKey":{"CODE":"REST_SERVICE_KEY_IFRAME"},"serviceid":{"CODE":"REST_SERVICE_ID_IFRAME"}}},"CODES":{"REST_SERVICE_ID_IFRAME":{"NAME":"Store number","DESCRIPTION":"Store number","SORT":"100"},"REST_SERVICE_KEY_IFRAME":{"NAME":"Secret key","DESCRIPTION":"Secret key","SORT":"300"},"PS_WORK_MODE_IFRAME":{"NAME":"Payment system operating mode","SORT":"1100","INPUT":{"TYPE":"ENUM","OPTIONS":{"TEST":"Test","REGULAR":"Live"}}}},"auth":"**put_access_token_here**"}"#,
);

/// `sale.paysystem.settings.update` (003_f05715a42b6c05f4.txt, webhook example).
pub const SETTINGS_UPDATE_WEBHOOK: (&str, &str) = (
    "sale.paysystem.settings.update",
    r#"{"ID":11,"PERSON_TYPE_ID":1,"SETTINGS":{"REST_SERVICE_KEY_IFRAME":{"TYPE":"VALUE","VALUE":"NEW_KEY"}}}"#,
);
/// `sale.paysystem.settings.update` (003_f05715a42b6c05f4.txt, OAuth example).
pub const SETTINGS_UPDATE_OAUTH: (&str, &str) = (
    "sale.paysystem.settings.update",
    r#"{"ID":11,"PERSON_TYPE_ID":1,"SETTINGS":{"REST_SERVICE_KEY_IFRAME":{"TYPE":"VALUE","VALUE":"NEW_KEY"}},"auth":"**put_access_token_here**"}"#,
);

/// `sale.paysystem.pay.invoice` (004_98ad6908b3621bfc.txt, webhook example).
pub const PAY_INVOICE_WEBHOOK: (&str, &str) = (
    "sale.paysystem.pay.invoice",
    r#"{"INVOICE_ID":2,"PAY_SYSTEM_ID":31}"#,
);
/// `sale.paysystem.pay.invoice` (004_98ad6908b3621bfc.txt, OAuth example).
pub const PAY_INVOICE_OAUTH: (&str, &str) = (
    "sale.paysystem.pay.invoice",
    r#"{"INVOICE_ID":2,"PAY_SYSTEM_ID":31,"auth":"**put_access_token_here**"}"#,
);
