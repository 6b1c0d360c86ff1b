use super::Key;

pub(super) fn text(key: Key) -> &'static str {
    match key {
        Key::Loading => "Ödeme bilgileri yükleniyor…",
        Key::AmountToPay => "Ödenecek tutar",
        Key::PaymentNumber => "Ödeme No. {number}",
        Key::ErrorTitle => "Bu ödeme gösterilemiyor",
        Key::ErrorNoMessage => "Mağaza ödeme bilgilerini göndermedi. Bu sayfayı mağazanın ödeme sayfasından açın veya yeniden yükleyin.",
        Key::ErrorInvalidPayment => "Mağaza eksik ödeme bilgileri gönderdi. Sayfayı yeniden yükleyin; sorun tekrarlanırsa mağazayla iletişime geçin.",
        Key::ErrorInvalidAmount => "Mağazanın gönderdiği ödeme tutarı geçersiz. Lütfen mağazayla iletişime geçin.",
        Key::ErrorInvalidCurrency => "Mağaza bilinmeyen bir para birimi gönderdi. Lütfen mağazayla iletişime geçin.",
        Key::ErrorCode => "Hata kodu: {code}",
        Key::Reload => "Yeniden yükle",
    }
}
