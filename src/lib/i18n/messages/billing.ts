import type { MessageSet } from '../index.ts';

/**
 * Billing texts: errors of the payment API, tariff names, the description YooKassa shows
 * the payer, payment states, and YooKassa's cancellation reasons in plain words
 * (`payments.cancel.<reason>`; unknown reasons fall back to `payments.cancel.unknown`).
 */
export const billing: MessageSet = {
  ru: {
    'errors.UNKNOWN_TARIFF': 'Такого тарифа нет. Выберите тариф из списка на странице оплаты.',
    'errors.PAYMENT_ID_REQUIRED': 'Не указан номер платежа. Откройте платёж из истории покупок.',
    'errors.PAYMENT_NOT_FOUND': 'Платёж не найден. Проверьте ссылку или откройте историю покупок.',
    'errors.USER_MISMATCH':
      'Этот платёж оформлен в другом аккаунте (user mismatch). Войдите в аккаунт, из которого платили.',
    'errors.PAYMENT_PROVIDER_UNAVAILABLE':
      'Платёжный сервис сейчас не отвечает. Попробуйте через минуту — деньги не списывались.',
    'errors.PAYMENT_PROVIDER_ERROR':
      'Не удалось создать платёж. Мы уже знаем об ошибке; попробуйте позже или напишите в поддержку.',
    'errors.WEBHOOK_FORBIDDEN': 'Уведомления об оплате принимаются только от ЮKassa.',
    'errors.INVALID_NOTIFICATION': 'Уведомление не распознано.',

    'tariffs.single.name': 'Разовая покупка',
    'tariffs.basic.name': 'Базовый',
    'tariffs.professional.name': 'Профессиональный',
    'payments.description': 'Beem — тариф «{tariff}», кредитов: {credits}',

    'payments.status.pending': 'Ожидает оплаты',
    'payments.status.waiting_for_capture': 'Ожидает подтверждения',
    'payments.status.succeeded': 'Оплачен',
    'payments.status.canceled': 'Отменён',
    'payments.status.failed': 'Не создан',
    'payments.status.expired': 'Не завершён',

    'payments.state.pending': 'Ждём подтверждения оплаты от ЮKassa. Статус обновится сам через несколько секунд.',
    'payments.state.credited': 'Оплата прошла, кредиты зачислены: +{credits}. Можно создавать видео.',
    'payments.state.failed': 'Платёж не был создан, деньги не списывались. Попробуйте оформить покупку ещё раз.',
    'payments.state.expired':
      'Оплата не завершена — вы отменили её или время вышло. Выберите тариф ещё раз. Если деньги всё же списались, кредиты придут сами.',
    'payments.state.review':
      'Оплата получена, но зачисление требует ручной проверки. Мы уже разбираемся и напишем вам — деньги не потеряются.',

    'payments.cancel.3d_secure_failed':
      'Не удалось пройти проверку 3-D Secure. Попробуйте ещё раз или оплатите другой картой.',
    'payments.cancel.call_issuer':
      'Банк отклонил платёж. Позвоните в банк, выпустивший карту, или оплатите другой картой.',
    'payments.cancel.card_expired': 'Срок действия карты истёк. Оплатите другой картой.',
    'payments.cancel.country_forbidden':
      'Карты этой страны не принимаются. Оплатите картой российского банка или другим способом.',
    'payments.cancel.fraud_suspected':
      'Платёж остановлен системой защиты от мошенничества. Оплатите другим способом или обратитесь в банк.',
    'payments.cancel.general_decline':
      'Банк отклонил платёж. Попробуйте ещё раз, оплатите другой картой или уточните причину в банке.',
    'payments.cancel.identification_required':
      'Для оплаты из кошелька ЮMoney на эту сумму кошелёк нужно идентифицировать. Пройдите идентификацию или выберите другой способ.',
    'payments.cancel.insufficient_funds': 'На карте недостаточно средств. Пополните её или оплатите другой картой.',
    'payments.cancel.invalid_card_number': 'Номер карты введён с ошибкой. Проверьте его и попробуйте снова.',
    'payments.cancel.invalid_csc': 'Код CVC/CVV введён неверно. Проверьте его и попробуйте снова.',
    'payments.cancel.issuer_unavailable':
      'Банк, выпустивший карту, сейчас недоступен. Попробуйте через несколько минут или оплатите другой картой.',
    'payments.cancel.payment_method_limit_exceeded':
      'Превышен лимит платежей по карте или кошельку. Оплатите другим способом или повторите позже.',
    'payments.cancel.payment_method_restricted':
      'Операции по этой карте или кошельку ограничены. Обратитесь в банк или оплатите другим способом.',
    'payments.cancel.permission_revoked': 'Разрешение на списание с этого способа оплаты отозвано. Оформите покупку заново.',
    'payments.cancel.internal_timeout':
      'Платёжная система не успела обработать платёж, деньги не списаны. Оформите покупку ещё раз.',
    'payments.cancel.canceled_by_merchant': 'Платёж отменён магазином, деньги не списаны. Оформите покупку заново.',
    'payments.cancel.expired_on_confirmation':
      'Оплата не завершена — вы отменили её или время вышло. Деньги не списаны; выберите тариф ещё раз, когда будете готовы.',
    'payments.cancel.expired_on_capture':
      'Платёж не подтвердили вовремя, и списание отменено: заблокированная сумма вернётся на карту. Оформите покупку заново.',
    'payments.cancel.deal_expired': 'Срок сделки истёк, деньги не списаны. Оформите покупку заново.',
    'payments.cancel.unsupported_mobile_operator':
      'Оплата со счёта этого оператора связи не поддерживается. Выберите другой способ оплаты.',
    'payments.cancel.unknown': 'Платёж не прошёл, деньги не списаны. Попробуйте ещё раз или выберите другой способ оплаты.',
  },
  en: {
    'errors.UNKNOWN_TARIFF': 'There is no such plan. Choose one from the list on the billing page.',
    'errors.PAYMENT_ID_REQUIRED': 'The payment number is missing. Open the payment from your purchase history.',
    'errors.PAYMENT_NOT_FOUND': 'Payment not found. Check the link or open your purchase history.',
    'errors.USER_MISMATCH': 'User mismatch: this payment belongs to another account. Sign in with the account you paid from.',
    'errors.PAYMENT_PROVIDER_UNAVAILABLE':
      'The payment service is not answering right now. Try again in a minute — you have not been charged.',
    'errors.PAYMENT_PROVIDER_ERROR':
      'We could not create the payment. We already know about the error; try again later or contact support.',
    'errors.WEBHOOK_FORBIDDEN': 'Payment notifications are accepted from YooKassa only.',
    'errors.INVALID_NOTIFICATION': 'The notification was not recognised.',

    'tariffs.single.name': 'One-off purchase',
    'tariffs.basic.name': 'Basic',
    'tariffs.professional.name': 'Professional',
    'payments.description': 'Beem — “{tariff}” plan, credits: {credits}',

    'payments.status.pending': 'Awaiting payment',
    'payments.status.waiting_for_capture': 'Awaiting confirmation',
    'payments.status.succeeded': 'Paid',
    'payments.status.canceled': 'Canceled',
    'payments.status.failed': 'Not created',
    'payments.status.expired': 'Not completed',

    'payments.state.pending': 'Waiting for YooKassa to confirm the payment. The status updates by itself in a few seconds.',
    'payments.state.credited': 'Payment received, credits added: +{credits}. You can make videos now.',
    'payments.state.failed': 'The payment was not created and you were not charged. Please try buying again.',
    'payments.state.expired':
      'The payment was not completed — you cancelled it or the time ran out. Choose a plan again. If you were charged after all, the credits arrive by themselves.',
    'payments.state.review':
      'Payment received, but crediting needs a manual check. We are on it and will write to you — your money is safe.',

    'payments.cancel.3d_secure_failed': '3-D Secure verification failed. Try again or pay with another card.',
    'payments.cancel.call_issuer': 'Your bank declined the payment. Call the bank that issued the card or use another card.',
    'payments.cancel.card_expired': 'The card has expired. Pay with another card.',
    'payments.cancel.country_forbidden': 'Cards from this country are not accepted. Use a card of a Russian bank or another method.',
    'payments.cancel.fraud_suspected': 'The payment was stopped by fraud protection. Use another method or contact your bank.',
    'payments.cancel.general_decline': 'Your bank declined the payment. Try again, use another card, or ask your bank why.',
    'payments.cancel.identification_required':
      'Your YooMoney wallet must be identified to pay this amount. Identify it or choose another method.',
    'payments.cancel.insufficient_funds': 'Not enough money on the card. Top it up or use another card.',
    'payments.cancel.invalid_card_number': 'The card number is wrong. Check it and try again.',
    'payments.cancel.invalid_csc': 'The CVC/CVV code is wrong. Check it and try again.',
    'payments.cancel.issuer_unavailable': 'Your card’s bank is unavailable right now. Try again in a few minutes or use another card.',
    'payments.cancel.payment_method_limit_exceeded': 'The card or wallet limit is exceeded. Use another method or try later.',
    'payments.cancel.payment_method_restricted': 'This card or wallet is restricted. Contact your bank or use another method.',
    'payments.cancel.permission_revoked': 'The permission to charge this payment method was revoked. Please buy again.',
    'payments.cancel.internal_timeout': 'The payment system did not finish in time and you were not charged. Please buy again.',
    'payments.cancel.canceled_by_merchant': 'The shop canceled the payment and you were not charged. Please buy again.',
    'payments.cancel.expired_on_confirmation':
      'The payment was not completed — you cancelled it or the time ran out. You were not charged; choose a plan again when ready.',
    'payments.cancel.expired_on_capture':
      'The payment was not confirmed in time and the charge was cancelled: the held amount returns to your card. Please buy again.',
    'payments.cancel.deal_expired': 'The deal expired and you were not charged. Please buy again.',
    'payments.cancel.unsupported_mobile_operator': 'Paying from this mobile operator’s balance is not supported. Choose another method.',
    'payments.cancel.unknown': 'The payment did not go through and you were not charged. Try again or choose another method.',
  },
};
