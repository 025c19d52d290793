# Arabic (ar): Modern Standard Arabic, short and simple (readers speak Iraqi, Sudanese, Yemeni dialects).
# Plain words, one idea per sentence. Arabic letters ي and ك only, never Persian پ چ ژ گ ی ک.
# At most 134 characters per message (2 UCS-2 SMS).
# Machine-drafted, NOT yet reviewed by a native speaker: see locales/REVIEW.md.

## The language itself
# The language's own name, shown in the language menu of every locale.
language-name = العربية
# First line of the language menu; the numbered list of languages follows it.
language-menu = اختر لغتك. أرسل رقما:

## First contact and main menu
welcome = مرحبا بك في خدمة المساعدة من IOM. الأجوبة مجانية. إذا لم تكن الأجوبة كافية، يمكن أن يساعدك شخص.
main-menu = القائمة الرئيسية. أرسل رقما:
main-menu-payments = الدفعة الشهرية
main-menu-schooling = المدرسة والدروس
main-menu-return = العودة إلى الوطن (عودة طوعية)
main-menu-person = التحدث مع شخص

## Answers
payments-info = تدفع IOM المساعدة الشهرية مرة كل شهر. يرسل الموظفون الموعد برسالة. إذا لم تصلك الدفعة، أرسل «موظف». للقائمة أرسل 0.
schooling-info = يمكن للأطفال الذهاب إلى المدرسة. توجد أيضا دروس للكبار. للسؤال عن التسجيل، تحدث مع شخص. للقائمة أرسل 0.
return-info = يمكن أن تساعدك IOM على العودة إلى وطنك إذا أردت. القرار لك، وهو مجاني وسري. يمكن لشخص أن يخبرك بالمزيد. للقائمة أرسل 0.

## Talking to a person
human-waiting = شكرا. سيرد عليك شخص هنا قريبا. يمكنك أن تكتب المزيد الآن. للقائمة أرسل 0.
not-understood = عذرا، لم أفهم. من فضلك أرسل رقما من القائمة.
offer-human = ما زلت لم أفهم. أرسل 1 للتحدث مع شخص، أو 0 للقائمة.

## Notices on and off
stopped = لن تصلك إشعارات منا بعد الآن. ما زال بإمكانك أن تكتب لنا. لتلقي الإشعارات مرة أخرى، أرسل START أو «ابدأ».
started = ستصلك الإشعارات مرة أخرى. للقائمة أرسل 0.
