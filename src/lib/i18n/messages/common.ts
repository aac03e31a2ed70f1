import type { MessageSet } from '../index.ts';

export const common: MessageSet = {
  ru: {
    'app.name': 'Beem',
    'app.tagline': 'Рекламное видео из фото товара за пару минут',
    'errors.INTERNAL': 'Что-то пошло не так на нашей стороне. Попробуйте ещё раз через минуту.',
    'errors.UNAUTHORIZED': 'Войдите в аккаунт, чтобы продолжить.',
    'errors.FORBIDDEN': 'У вас нет доступа к этому разделу.',
    'errors.NOT_FOUND': 'Не нашли то, что вы ищете.',
    'errors.RATE_LIMITED': 'Слишком много запросов. Подождите {seconds} сек и попробуйте снова.',
    'errors.INSUFFICIENT_BALANCE':
      'Не хватает кредитов: нужно {required}, на балансе {current}. Пополните баланс, чтобы продолжить.',
    'errors.INVALID_JSON': 'Не удалось прочитать запрос. Обновите страницу и попробуйте снова.',
    'errors.VALIDATION': 'Проверьте поле «{field}».',
    'errors.VALIDATION.plain': 'Проверьте введённые данные и попробуйте снова.',
    'errors.RATE_LIMITED.plain': 'Слишком много запросов. Подождите минуту и попробуйте снова.',
    'errors.INSUFFICIENT_BALANCE.plain': 'Не хватает кредитов. Пополните баланс, чтобы продолжить.',
    'errors.BAD_PATH': 'Такого адреса нет: в нём недопустимые символы. Проверьте ссылку.',
    'errors.REQUEST_TIMEOUT': 'Запрос шёл слишком долго. Проверьте соединение и попробуйте снова.',
  },
  en: {
    'app.name': 'Beem',
    'app.tagline': 'An ad video from a product photo in a couple of minutes',
    'errors.INTERNAL': 'Something went wrong on our side. Please try again in a minute.',
    'errors.UNAUTHORIZED': 'Please sign in to continue.',
    'errors.FORBIDDEN': 'You do not have access to this page.',
    'errors.NOT_FOUND': 'We could not find what you are looking for.',
    'errors.RATE_LIMITED': 'Too many requests. Wait {seconds} sec and try again.',
    'errors.INSUFFICIENT_BALANCE':
      'Not enough credits: {required} needed, {current} on your balance. Top up to continue.',
    'errors.INVALID_JSON': 'We could not read the request. Reload the page and try again.',
    'errors.VALIDATION': 'Please check the “{field}” field.',
    'errors.VALIDATION.plain': 'Please check what you entered and try again.',
    'errors.RATE_LIMITED.plain': 'Too many requests. Wait a minute and try again.',
    'errors.INSUFFICIENT_BALANCE.plain': 'Not enough credits. Top up to continue.',
    'errors.BAD_PATH': 'There is no such address: it contains characters we do not accept. Check the link.',
    'errors.REQUEST_TIMEOUT': 'The request took too long to arrive. Check your connection and try again.',
  },
};
