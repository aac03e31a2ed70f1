import type { MessageSet } from '../index.ts';

/**
 * Waiting for a video (issue 16 §5): the wait estimate and the queue, cancelling a
 * generation that has not reached the video model, and the "ready" signal in a background tab.
 */
export const waiting: MessageSet = {
  ru: {
    'errors.GENERATION_AT_MINIMAX':
      'Ролик уже снимает нейросеть — отменить его нельзя. Если он не получится, кредиты вернутся сами.',
    'errors.GENERATION_ALREADY_FINISHED': 'Этот ролик уже завершён — отменять нечего.',
    'errors.STATUS_STREAMS_TOO_MANY': 'Открыто слишком много вкладок с роликами. Закройте лишние — статус будет обновляться и так.',
    'errors.SERVICE_UNAVAILABLE': 'Сервер перезапускается. Статус ролика обновится через несколько секунд.',
    'generation.reason.USER_CANCELED': 'Вы отменили этот ролик. Кредиты вернулись на баланс.',

    'ui.wait.eta.minutes.one': 'Осталась примерно {count} минута.',
    'ui.wait.eta.minutes.few': 'Осталось примерно {count} минуты.',
    'ui.wait.eta.minutes.many': 'Осталось примерно {count} минут.',
    'ui.wait.eta.minutes.other': 'Осталось примерно {count} минуты.',
    'ui.wait.eta.underMinute': 'Осталось меньше минуты.',
    'ui.wait.queueAhead.one': 'Перед вами {count} ролик.',
    'ui.wait.queueAhead.few': 'Перед вами {count} ролика.',
    'ui.wait.queueAhead.many': 'Перед вами {count} роликов.',
    'ui.wait.queueAhead.other': 'Перед вами {count} ролика.',
    'ui.wait.cancel': 'Отменить и вернуть кредиты',
    'ui.wait.canceling': 'Отменяем…',
    'ui.wait.cancelHint': 'Отменить можно, пока ролик не ушёл в нейросеть.',
    'ui.wait.notify': 'Сообщить, когда ролик будет готов',
    'ui.wait.notifyOn': 'Сообщим, когда ролик будет готов, даже если вкладка в фоне.',
    'ui.wait.notifyBlocked': 'Уведомления для этого сайта запрещены в браузере — о готовности скажет заголовок вкладки.',
    'ui.wait.readyTitle': '✓ Ролик готов',
    'ui.wait.readyNotice': 'Ролик готов',
    'ui.wait.readyNoticeBody': 'Откройте вкладку Beem, чтобы посмотреть и скачать его.',
  },
  en: {
    'errors.GENERATION_AT_MINIMAX':
      'The video model is already making this video, so it can no longer be cancelled. If it fails, your credits come back automatically.',
    'errors.GENERATION_ALREADY_FINISHED': 'This video has already finished — there is nothing to cancel.',
    'errors.STATUS_STREAMS_TOO_MANY': 'Too many tabs are watching videos. Close some — the status keeps updating anyway.',
    'errors.SERVICE_UNAVAILABLE': 'The server is restarting. The video’s status will update in a few seconds.',
    'generation.reason.USER_CANCELED': 'You cancelled this video. Your credits are back on your balance.',

    'ui.wait.eta.minutes.one': 'About {count} minute left.',
    'ui.wait.eta.minutes.other': 'About {count} minutes left.',
    'ui.wait.eta.underMinute': 'Less than a minute left.',
    'ui.wait.queueAhead.one': '{count} video ahead of yours.',
    'ui.wait.queueAhead.other': '{count} videos ahead of yours.',
    'ui.wait.cancel': 'Cancel and get the credits back',
    'ui.wait.canceling': 'Cancelling…',
    'ui.wait.cancelHint': 'You can cancel until the video goes to the video model.',
    'ui.wait.notify': 'Tell me when the video is ready',
    'ui.wait.notifyOn': 'We will tell you when the video is ready, even if the tab is in the background.',
    'ui.wait.notifyBlocked': 'Notifications are blocked for this site in your browser — the tab title will say when it is ready.',
    'ui.wait.readyTitle': '✓ Video ready',
    'ui.wait.readyNotice': 'Your video is ready',
    'ui.wait.readyNoticeBody': 'Open the Beem tab to watch and download it.',
  },
};
