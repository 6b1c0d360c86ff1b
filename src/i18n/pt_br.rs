use super::Key;

pub(super) fn text(key: Key) -> &'static str {
    match key {
        Key::Loading => "Carregando os dados do pagamento…",
        Key::AmountToPay => "Valor a pagar",
        Key::PaymentNumber => "Pagamento nº {number}",
        Key::ErrorTitle => "Não é possível exibir este pagamento",
        Key::ErrorNoMessage => "A loja não enviou os dados do pagamento. Abra esta página a partir da página de pagamento da loja ou recarregue-a.",
        Key::ErrorInvalidPayment => "A loja enviou dados de pagamento incompletos. Recarregue a página; se isso acontecer de novo, entre em contato com a loja.",
        Key::ErrorInvalidAmount => "O valor do pagamento enviado pela loja não é válido. Entre em contato com a loja.",
        Key::ErrorInvalidCurrency => "A loja enviou uma moeda desconhecida. Entre em contato com a loja.",
        Key::ErrorCode => "Código do erro: {code}",
        Key::Reload => "Recarregar",
    }
}
