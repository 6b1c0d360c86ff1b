use super::Key;

pub(super) fn text(key: Key) -> &'static str {
    match key {
        Key::Loading => "Завантаження даних платежу…",
        Key::AmountToPay => "До сплати",
        Key::PaymentNumber => "Платіж №\u{a0}{number}",
        Key::ErrorTitle => "Не вдається показати платіж",
        Key::ErrorNoMessage => "Магазин не передав дані платежу. Відкрийте цю сторінку зі сторінки оплати магазину або оновіть її.",
        Key::ErrorInvalidPayment => "Магазин передав неповні дані платежу. Оновіть сторінку; якщо помилка повториться, зверніться до магазину.",
        Key::ErrorInvalidAmount => "Магазин передав недійсну суму платежу. Зверніться до магазину.",
        Key::ErrorInvalidCurrency => "Магазин передав невідому валюту. Зверніться до магазину.",
        Key::ErrorCode => "Код помилки: {code}",
        Key::Reload => "Оновити",
    }
}
