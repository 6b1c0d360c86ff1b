use super::Key;

pub(super) fn text(key: Key) -> &'static str {
    match key {
        Key::Loading => "Загрузка данных платежа…",
        Key::AmountToPay => "К оплате",
        Key::PaymentNumber => "Платёж №\u{a0}{number}",
        Key::ErrorTitle => "Не удаётся показать платёж",
        Key::ErrorNoMessage => "Магазин не передал данные платежа. Откройте эту страницу со страницы оплаты магазина или обновите её.",
        Key::ErrorInvalidPayment => "Магазин передал неполные данные платежа. Обновите страницу; если ошибка повторится, обратитесь в магазин.",
        Key::ErrorInvalidAmount => "Магазин передал неверную сумму платежа. Обратитесь в магазин.",
        Key::ErrorInvalidCurrency => "Магазин передал неизвестную валюту. Обратитесь в магазин.",
        Key::ErrorCode => "Код ошибки: {code}",
        Key::Reload => "Обновить",
    }
}
