use super::Key;

pub(super) fn text(key: Key) -> &'static str {
    match key {
        Key::Loading => "Cargando los datos del pago…",
        Key::AmountToPay => "Importe a pagar",
        Key::PaymentNumber => "Pago n.º {number}",
        Key::ErrorTitle => "No se puede mostrar este pago",
        Key::ErrorNoMessage => "La tienda no envió los datos del pago. Abre esta página desde la página de pago de la tienda o recárgala.",
        Key::ErrorInvalidPayment => "La tienda envió datos de pago incompletos. Recarga la página; si vuelve a ocurrir, contacta con la tienda.",
        Key::ErrorInvalidAmount => "El importe del pago enviado por la tienda no es válido. Contacta con la tienda.",
        Key::ErrorInvalidCurrency => "La tienda envió una moneda desconocida. Contacta con la tienda.",
        Key::ErrorCode => "Código de error: {code}",
        Key::Reload => "Recargar",
    }
}
