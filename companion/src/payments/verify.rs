//! Before any charge: the truth about the payment, read from the portal, and a refusal of
//! anything that does not match it.

use super::{ConfirmInput, PaymentError, Payments};
use crate::acquirer::AcquirerKind;
use crate::portal::{Mode, PaymentRef, Portal, PortalError};
use crate::store::Registry;
use b24pay_protocol::ids::InvoiceId;

/// What verification with the portal established.
pub(super) struct Verified {
    pub registry: Registry,
    pub order_id: Option<InvoiceId>,
    pub acquirer: AcquirerKind,
}

impl Payments {
    /// Reads the payment from the portal (the pay system's registry first, cached) and checks
    /// it against the request. Refusals that say nothing new are cached briefly by the guard,
    /// so a flood of the same request costs the portal one call.
    pub(super) async fn verify(&self, input: &ConfirmInput) -> Result<Verified, PaymentError> {
        // A portal that is not installed (yet, or any more) is not remembered as a refusal of
        // this payment: installed again, it pays at once.
        let portal = self
            .portals
            .get(&input.portal)
            .await
            .map_err(|e| self.portal_failure(&e))?;
        let result = self.verify_with_portal(portal.as_ref(), input).await;
        if let Err(e) = &result {
            self.guard.remember_refusal(input, e);
        }
        result
    }

    async fn verify_with_portal(
        &self,
        portal: &dyn Portal,
        input: &ConfirmInput,
    ) -> Result<Verified, PaymentError> {
        let pay_system = portal
            .pay_system(input.paysystem_id)
            .await
            .map_err(|e| self.portal_failure(&e))?;
        if !pay_system.ours {
            // Not ours, or inactive: for the customer the same as no such payment.
            return Err(PaymentError::Unavailable);
        }
        let facts = portal
            .payment_facts(&PaymentRef {
                paysystem_id: input.paysystem_id,
                payment_id: input.payment_id,
                registry: pay_system.registry,
                invoice_id: input.invoice_id,
            })
            .await
            .map_err(|e| self.portal_failure(&e))?;
        if facts.amount != input.amount {
            // The detail stays in the log: the answer is the same as for a payment that does
            // not exist.
            tracing::info!(
                payment = %input.payment_id, paysystem = %input.paysystem_id,
                "refused: the amount or currency differs from the portal's"
            );
            return Err(PaymentError::Unavailable);
        }
        if facts.paid {
            return Err(PaymentError::AlreadyPaid);
        }
        let acquirer = match facts.mode {
            Mode::Test if !self.config.allow_test_mode => {
                tracing::warn!(
                    paysystem = %input.paysystem_id,
                    "refused: the pay system is in TEST mode and payments.allow_test_mode is off"
                );
                return Err(PaymentError::TestModeNotAllowed);
            }
            Mode::Test => AcquirerKind::Test,
            Mode::Live => self
                .acquirers
                .live
                .as_ref()
                .map(|a| a.kind())
                .ok_or(PaymentError::LiveModeUnavailable)?,
        };
        if pay_system.registry == Registry::CrmInvoice && facts.order_id.is_none() {
            return Err(PaymentError::NotConfigured(
                "the pay system's settings give no invoice id (B24PAY_ORDER_ID)".into(),
            ));
        }
        Ok(Verified {
            registry: pay_system.registry,
            order_id: facts.order_id,
            acquirer,
        })
    }

    fn portal_failure(&self, e: &PortalError) -> PaymentError {
        self.metrics.portal_error(e.code());
        if !matches!(e, PortalError::NotFound(_)) {
            tracing::warn!(error = %e, "portal call failed while verifying a payment");
        }
        PaymentError::from_portal(e)
    }
}
