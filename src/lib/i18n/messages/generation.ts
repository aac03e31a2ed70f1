import type { MessageSet } from '../index.ts';

/** Upload, generation and delivery: request errors (`errors.*`) and failure reasons (`generation.reason.*`). */
export const generation: MessageSet = {
  ru: {
    'errors.BODY_TOO_LARGE': 'Запрос слишком большой. Сократите текст и попробуйте снова.',
    'errors.IDEMPOTENCY_KEY_REUSED':
      'Этот запрос уже отправляли с другими данными. Обновите страницу и отправьте его заново.',
    'errors.IMAGE_TOO_LARGE': 'Фото больше 10 МБ. Уменьшите его или сохраните в JPEG и загрузите снова.',
    'errors.IMAGE_MISSING': 'Выберите фото товара (JPEG, PNG или WebP, до 10 МБ) и загрузите его.',
    'errors.IMAGE_TYPE_UNSUPPORTED': 'Этот файл не похож на фото. Подходят JPEG, PNG и WebP до 10 МБ.',
    'errors.IMAGE_UNREADABLE': 'Не получилось открыть фото: файл повреждён или это не JPEG, PNG или WebP. Сохраните фото заново и загрузите.',
    'errors.IMAGE_TOO_SMALL':
      'Фото слишком маленькое ({width}×{height}). Нужно, чтобы меньшая сторона была не меньше {min} пикселей — загрузите фото побольше.',
    'errors.IMAGE_BAD_ASPECT':
      'Фото слишком вытянутое ({width}×{height}). Обрежьте его так, чтобы одна сторона была не больше чем в 2,5 раза длиннее другой.',
    'errors.IMAGE_TOO_SMALL.plain': 'Фото слишком маленькое: меньшая сторона должна быть больше 300 пикселей. Загрузите фото побольше.',
    'errors.IMAGE_BAD_ASPECT.plain':
      'Фото слишком вытянутое. Обрежьте его так, чтобы одна сторона была не больше чем в 2,5 раза длиннее другой.',
    'errors.NO_IMAGE': 'Сначала загрузите фото товара — ролик делается из него.',
    'errors.PROMPT_TOO_SHORT': 'Опишите, что должно происходить в ролике: хотя бы 3 символа.',
    'errors.PROMPT_TOO_LONG': 'Описание слишком длинное: не больше 2000 символов. Сократите его.',
    'errors.DURATION_INVALID': 'Выберите длительность: 6 или 10 секунд.',
    'errors.DURATION_NOT_AVAILABLE': 'Ролик на {duration} секунд сейчас недоступен в этом режиме. Выберите 6 секунд.',
    'errors.DURATION_NOT_AVAILABLE.plain': 'Ролик такой длины сейчас недоступен в этом режиме. Выберите 6 секунд.',
    'errors.MODE_INVALID': 'Выберите режим: «Рекламный шаблон» или «Свободный сценарий».',
    'errors.GENERATION_NOT_FOUND': 'Такого ролика нет. Проверьте ссылку или откройте «Мои ролики».',
    'errors.VIDEO_NOT_FOUND': 'Ролик не найден. Возможно, он ещё не готов — загляните в «Мои ролики».',
    'errors.METHOD_NOT_ALLOWED': 'Этот адрес так не вызывается.',

    'generation.reason.INPUT_SENSITIVE':
      'Фото или описание не прошли проверку нейросети. Попробуйте другое фото или перепишите описание.',
    'generation.reason.OUTPUT_SENSITIVE':
      'Готовый ролик не прошёл проверку нейросети. Измените описание сцены и запустите ещё раз.',
    'generation.reason.PROMPT_CHARACTERS':
      'В описании слишком много необычных или невидимых символов. Перепишите его обычным текстом.',
    'generation.reason.INVALID_PARAMS':
      'Нейросеть не приняла фото или настройки. Попробуйте другое фото (JPEG, не слишком вытянутое) и запустите снова.',
    'generation.reason.PROVIDER_UNAVAILABLE':
      'Нейросеть, которая снимает ролики, временно недоступна. Мы уже разбираемся; попробуйте позже.',
    'generation.reason.PROVIDER_BUSY':
      'Нейросеть сейчас перегружена и не ответила после нескольких попыток. Попробуйте через несколько минут.',
    'generation.reason.GENERATION_FAILED':
      'Нейросеть не смогла сделать этот ролик. Попробуйте ещё раз или измените описание.',
    'generation.reason.TIMED_OUT':
      'Ролик делался слишком долго, и мы остановили ожидание. Если он всё же появится, то бесплатно окажется в «Моих роликах».',
    'generation.reason.DOWNLOAD_FAILED':
      'Нейросеть сделала ролик, но скачать его не получилось. Попробуйте создать ролик снова.',
    'generation.reason.STOPPED_BY_SUPPORT':
      'Этот ролик остановила поддержка Beem. Запустите его снова или напишите нам, если нужна помощь.',
    'generation.reason.IMAGE_MISSING': 'Фото для этого ролика не нашлось. Загрузите его снова и создайте ролик.',
    'generation.reason.INTERNAL':
      'Что-то пошло не так на нашей стороне. Мы уже знаем об этом; попробуйте ещё раз.',
  },
  en: {
    'errors.BODY_TOO_LARGE': 'The request is too large. Shorten the text and try again.',
    'errors.IDEMPOTENCY_KEY_REUSED': 'This request was already sent with different data. Reload the page and send it again.',
    'errors.IMAGE_TOO_LARGE': 'The photo is larger than 10 MB. Make it smaller or save it as JPEG and upload again.',
    'errors.IMAGE_MISSING': 'Choose a product photo (JPEG, PNG or WebP, up to 10 MB) and upload it.',
    'errors.IMAGE_TYPE_UNSUPPORTED': 'This file does not look like a photo. JPEG, PNG and WebP up to 10 MB work.',
    'errors.IMAGE_UNREADABLE': 'We could not open the photo: the file is damaged or not a JPEG, PNG or WebP. Save it again and upload.',
    'errors.IMAGE_TOO_SMALL':
      'The photo is too small ({width}×{height}). Its shorter side must be at least {min} pixels — upload a larger photo.',
    'errors.IMAGE_BAD_ASPECT':
      'The photo is too elongated ({width}×{height}). Crop it so that one side is at most 2.5 times the other.',
    'errors.IMAGE_TOO_SMALL.plain': 'The photo is too small: its shorter side must be over 300 pixels. Upload a larger photo.',
    'errors.IMAGE_BAD_ASPECT.plain': 'The photo is too elongated. Crop it so that one side is at most 2.5 times the other.',
    'errors.NO_IMAGE': 'Upload a product photo first — the video is made from it.',
    'errors.PROMPT_TOO_SHORT': 'Describe what should happen in the video: at least 3 characters.',
    'errors.PROMPT_TOO_LONG': 'The description is too long: 2000 characters at most. Please shorten it.',
    'errors.DURATION_INVALID': 'Choose a length: 6 or 10 seconds.',
    'errors.DURATION_NOT_AVAILABLE': '{duration}-second videos are not available in this mode right now. Choose 6 seconds.',
    'errors.DURATION_NOT_AVAILABLE.plain': 'Videos of this length are not available in this mode right now. Choose 6 seconds.',
    'errors.MODE_INVALID': 'Choose a mode: “Ad template” or “Free script”.',
    'errors.GENERATION_NOT_FOUND': 'There is no such video. Check the link or open “My videos”.',
    'errors.VIDEO_NOT_FOUND': 'Video not found. It may not be ready yet — check “My videos”.',
    'errors.METHOD_NOT_ALLOWED': 'This address cannot be called this way.',

    'generation.reason.INPUT_SENSITIVE':
      'The photo or description did not pass the AI model’s check. Try another photo or rewrite the description.',
    'generation.reason.OUTPUT_SENSITIVE':
      'The finished video did not pass the AI model’s check. Change the scene description and try again.',
    'generation.reason.PROMPT_CHARACTERS':
      'The description has too many unusual or invisible characters. Rewrite it as plain text.',
    'generation.reason.INVALID_PARAMS':
      'The AI model did not accept the photo or settings. Try another photo (JPEG, not too elongated) and start again.',
    'generation.reason.PROVIDER_UNAVAILABLE':
      'The AI model that makes the videos is temporarily unavailable. We are on it; please try later.',
    'generation.reason.PROVIDER_BUSY':
      'The AI model is overloaded and did not answer after several tries. Try again in a few minutes.',
    'generation.reason.GENERATION_FAILED':
      'The AI model could not make this video. Try again or change the description.',
    'generation.reason.TIMED_OUT':
      'The video took too long, so we stopped waiting. If the video still arrives, it will appear in your history for free.',
    'generation.reason.DOWNLOAD_FAILED':
      'The AI model finished the video, but we could not download it. Please create the video again.',
    'generation.reason.STOPPED_BY_SUPPORT':
      'Beem support stopped this video. Start it again or write to us if you need help.',
    'generation.reason.IMAGE_MISSING': 'The photo for this video is missing. Upload it again and create the video.',
    'generation.reason.INTERNAL':
      'Something went wrong on our side. We already know about it; please try again.',
  },
};
