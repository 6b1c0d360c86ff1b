use super::Key;

pub(super) fn text(key: Key) -> &'static str {
    match key {
        Key::Loading => "Chargement des détails du paiement…",
        Key::AmountToPay => "Montant à payer",
        Key::PaymentNumber => "Paiement n°\u{a0}{number}",
        Key::ErrorTitle => "Impossible d’afficher ce paiement",
        Key::ErrorNoMessage => "La boutique n’a pas envoyé les détails du paiement. Ouvrez cette page depuis la page de paiement de la boutique ou rechargez-la.",
        Key::ErrorInvalidPayment => "La boutique a envoyé des détails de paiement incomplets. Rechargez la page\u{a0}; si cela se reproduit, contactez la boutique.",
        Key::ErrorInvalidAmount => "Le montant du paiement envoyé par la boutique n’est pas valide. Contactez la boutique.",
        Key::ErrorInvalidCurrency => "La boutique a envoyé une devise inconnue. Contactez la boutique.",
        Key::ErrorCode => "Code d’erreur\u{a0}: {code}",
        Key::Reload => "Recharger",
    }
}
