use super::Key;

pub(super) fn text(key: Key) -> &'static str {
    match key {
        Key::Loading => "Ładowanie danych płatności…",
        Key::AmountToPay => "Do zapłaty",
        Key::PaymentNumber => "Płatność nr {number}",
        Key::ErrorTitle => "Nie można wyświetlić płatności",
        Key::ErrorNoMessage => "Sklep nie przesłał danych płatności. Otwórz tę stronę ze strony płatności sklepu lub odśwież ją.",
        Key::ErrorInvalidPayment => "Sklep przesłał niepełne dane płatności. Odśwież stronę; jeśli problem się powtórzy, skontaktuj się ze sklepem.",
        Key::ErrorInvalidAmount => "Kwota płatności przesłana przez sklep jest nieprawidłowa. Skontaktuj się ze sklepem.",
        Key::ErrorInvalidCurrency => "Sklep przesłał nieznaną walutę. Skontaktuj się ze sklepem.",
        Key::ErrorCode => "Kod błędu: {code}",
        Key::Reload => "Odśwież",
    }
}
