use super::Key;

pub(super) fn text(key: Key) -> &'static str {
    match key {
        Key::Loading => "Zahlungsdaten werden geladen…",
        Key::AmountToPay => "Zu zahlen",
        Key::PaymentNumber => "Zahlung Nr. {number}",
        Key::ErrorTitle => "Diese Zahlung kann nicht angezeigt werden",
        Key::ErrorNoMessage => "Der Shop hat keine Zahlungsdaten gesendet. Öffnen Sie diese Seite über die Zahlungsseite des Shops oder laden Sie sie neu.",
        Key::ErrorInvalidPayment => "Der Shop hat unvollständige Zahlungsdaten gesendet. Laden Sie die Seite neu; wenn das erneut passiert, wenden Sie sich an den Shop.",
        Key::ErrorInvalidAmount => "Der vom Shop gesendete Zahlungsbetrag ist ungültig. Bitte wenden Sie sich an den Shop.",
        Key::ErrorInvalidCurrency => "Der Shop hat eine unbekannte Währung gesendet. Bitte wenden Sie sich an den Shop.",
        Key::ErrorCode => "Fehlercode: {code}",
        Key::Reload => "Neu laden",
    }
}
