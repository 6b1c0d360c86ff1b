use super::Key;

pub(super) fn text(key: Key) -> &'static str {
    match key {
        Key::Loading => "Төлем деректері жүктелуде…",
        Key::AmountToPay => "Төлеуге",
        Key::PaymentNumber => "Төлем №\u{a0}{number}",
        Key::ErrorTitle => "Төлемді көрсету мүмкін емес",
        Key::ErrorNoMessage => "Дүкен төлем деректерін жібермеді. Бұл бетті дүкеннің төлем бетінен ашыңыз немесе жаңартыңыз.",
        Key::ErrorInvalidPayment => "Дүкен толық емес төлем деректерін жіберді. Бетті жаңартыңыз; қате қайталанса, дүкенге хабарласыңыз.",
        Key::ErrorInvalidAmount => "Дүкен жіберген төлем сомасы жарамсыз. Дүкенге хабарласыңыз.",
        Key::ErrorInvalidCurrency => "Дүкен белгісіз валюта жіберді. Дүкенге хабарласыңыз.",
        Key::ErrorCode => "Қате коды: {code}",
        Key::Reload => "Жаңарту",
    }
}
