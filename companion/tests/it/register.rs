//! `register` against the sandbox: it creates the handler, the pay system and the settings; a
//! second run changes nothing and says so; changes are applied as updates; secrets never go
//! into the iframe FIELDS. Also through the real binary.

use b24pay_companion::portal::Mode;
use b24pay_companion::register::{register, Action, RegisterOptions};
use b24pay_companion::store::Registry;
use b24pay_sandbox::Sandbox;
use bitrix24_client::{Auth, Client, FieldCode};

fn client(webhook: &str) -> Client {
    Client::builder(Auth::webhook(webhook).unwrap())
        .rate_limit(None)
        .build()
        .unwrap()
}

#[tokio::test]
async fn idempotent_and_updating() {
    let sandbox = Sandbox::builder().start().await.unwrap();
    let c = client(&sandbox.webhook_url());
    let mut o = RegisterOptions::new(
        url::Url::parse("https://pay.example.com/").unwrap(),
        Mode::Test,
    );
    o.person_type = Some(1);
    o.shop_id = Some("shop-1".into());
    o.secret_key = Some("very-secret".into());

    let first = register(&c, &o).await.unwrap();
    assert_eq!(
        (first.handler, first.paysystem, first.settings),
        (Action::Created, Action::Created, Action::Created)
    );
    assert!(first
        .to_string()
        .contains(&format!("id {}", first.paysystem_id)));
    let second = register(&c, &o).await.unwrap();
    assert!(second.changed_nothing(), "{second}");
    assert_eq!(
        (second.handler_id, second.paysystem_id),
        (first.handler_id, first.paysystem_id)
    );
    assert!(second.to_string().contains("nothing to do"));
    let writes = [
        "sale.paysystem.handler.add",
        "sale.paysystem.handler.update",
        "sale.paysystem.add",
        "sale.paysystem.update",
        "sale.paysystem.settings.update",
    ]
    .map(|m| sandbox.method_calls(m));
    register(&c, &o).await.unwrap();
    assert_eq!(
        writes,
        [
            "sale.paysystem.handler.add",
            "sale.paysystem.handler.update",
            "sale.paysystem.add",
            "sale.paysystem.update",
            "sale.paysystem.settings.update"
        ]
        .map(|m| sandbox.method_calls(m)),
        "a repeated run writes nothing"
    );

    // What the portal holds.
    let handlers = c.handler_list().await.unwrap();
    let h = handlers.iter().find(|h| h.code == "b24pay").unwrap();
    let iframe = h.settings.as_ref().unwrap().iframe_data.as_ref().unwrap();
    assert_eq!(iframe.action_uri, "https://pay.example.com/");
    for (name, field) in &iframe.fields {
        if let FieldCode::Setting(code) = &field.code {
            assert_ne!(
                code, "B24PAY_SECRET_KEY",
                "the secret is not sent to the browser ({name})"
            );
        }
    }
    let ps = c
        .paysystem_list(&bitrix24_client::ListQuery::all())
        .await
        .unwrap();
    let ps = ps
        .iter()
        .find(|p| p.id == Some(first.paysystem_id))
        .unwrap();
    assert_eq!(ps.active, Some(true));
    assert_eq!(ps.handler_code(), Some("b24pay"));
    assert_eq!(ps.entity_registry_type.as_deref(), Some("ORDER"));
    let settings = c.settings_get(first.paysystem_id, 1).await.unwrap();
    assert_eq!(settings["B24PAY_MODE"].value, "TEST");
    assert_eq!(settings["B24PAY_SECRET_KEY"].value, "very-secret");
    assert_eq!(settings["B24PAY_PAYMENT_SUM"].value, "SUM");

    // Changes are updates, then stable again.
    o.widget_url = url::Url::parse("https://pay2.example.com/widget/").unwrap();
    o.mode = Mode::Live;
    let changed = register(&c, &o).await.unwrap();
    assert_eq!(
        (changed.handler, changed.settings),
        (Action::Updated, Action::Updated)
    );
    assert_eq!(changed.paysystem_id, first.paysystem_id);
    assert!(register(&c, &o).await.unwrap().changed_nothing());
    assert_eq!(
        c.settings_get(first.paysystem_id, 1).await.unwrap()["B24PAY_MODE"].value,
        "LIVE"
    );

    // A legacy-invoice pay system beside it.
    o.registry = Registry::CrmInvoice;
    o.person_type = Some(3);
    let invoice = register(&c, &o).await.unwrap();
    assert_eq!(invoice.paysystem, Action::Created);
    assert_ne!(invoice.paysystem_id, first.paysystem_id);
    assert!(register(&c, &o).await.unwrap().changed_nothing());
    // A person type of the other registry is refused by the portal.
    o.registry = Registry::Order;
    o.person_type = Some(4);
    assert!(register(&c, &o).await.is_err());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn person_type_must_be_chosen_when_it_cannot_be_listed() {
    let sandbox = Sandbox::builder().start().await.unwrap();
    let c = client(&sandbox.webhook_url());
    let o = RegisterOptions::new(
        url::Url::parse("https://pay.example.com/").unwrap(),
        Mode::Test,
    );
    let err = register(&c, &o).await.unwrap_err().to_string();
    assert!(err.contains("--person-type"), "{err}");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_registers_twice() {
    let sandbox = Sandbox::builder().start().await.unwrap();
    let webhook = sandbox.webhook_url();
    let run = || {
        let webhook = webhook.clone();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_b24pay"))
                .args([
                    "register",
                    "--widget-url",
                    "http://localhost:8080/",
                    "--person-type",
                    "1",
                    "--shop-id",
                    "demo",
                    "--mode",
                    "TEST",
                ])
                .env_clear()
                .env("B24PAY_WEBHOOK_URL", &webhook)
                .env("B24PAY_SECRET_KEY", "k-123")
                .output()
                .unwrap()
        })
    };
    let first = run().await.unwrap();
    let out = String::from_utf8_lossy(&first.stdout);
    assert!(
        first.status.success(),
        "{out} {}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(out.contains("handler \"b24pay\": created"), "{out}");
    assert!(out.contains("pay system: created"), "{out}");
    let second = run().await.unwrap();
    let out2 = String::from_utf8_lossy(&second.stdout);
    assert!(out2.contains("nothing to do"), "{out2}");
    for text in [&out, &out2] {
        assert!(!text.contains(b24pay_sandbox::DEFAULT_WEBHOOK_CODE));
        assert!(!text.contains("k-123"));
    }
    sandbox.shutdown().await;
}

/// Whether a pay system takes real money is never a default: `--mode` must be given.
#[test]
fn the_binary_wants_a_mode() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_b24pay"))
        .args([
            "register",
            "--webhook",
            "http://127.0.0.1:9/rest/1/abcdefgh/",
            "--widget-url",
            "http://localhost:8080/",
        ])
        .env_clear()
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--mode"), "{err}");
}
