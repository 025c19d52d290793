# Arabic (ar). Words a person can send at any time, separated by commas. Matching ignores case,
# surrounding punctuation, harakat and tatweel, and folds Arabic/Persian letter variants (ي ى ك,
# and أ إ آ to bare ا). The English words work in every locale anyway; list here the words people
# of this language would type. Words used as commands in main.ftl («توقف», «احذف», «الخصوصية»,
# «ابدأ») must stay here. Arabic letters only: Latin letters would fail the script check.
# Machine-drafted, NOT yet reviewed by a native speaker: see locales/REVIEW.md.

## Commands: the whole message must be one of these words.
keyword-menu = القائمة, قائمة, القائمة الرئيسية, 0
keyword-language = اللغة, لغة, تغيير اللغة
keyword-agent = موظف, شخص, مترجم, إنسان, ساعدني
keyword-stop = توقف, إيقاف, أوقف, إلغاء الاشتراك
keyword-start = ابدأ, بدء, اشتراك, تشغيل
keyword-privacy = الخصوصية, خصوصية, سياسة الخصوصية
keyword-delete = احذف, حذف, احذف بياناتي, امسح بياناتي

## Safety words are in safeguarding.txt beside this file (one phrase a line, two tiers).

## Free-text routing: a message that is not a menu number but contains one of these words or
## phrases goes to that topic.
route-resettlement = توطين, بلد ثالث, دولة ثالثة, دوله ثالثه, مفوضية, مفوضيه, الأمم المتحدة, UNHCR, كندا, أستراليا, استراليا, أمريكا, امريكا, نيوزيلندا, متى نسافر, متى أسافر
route-payments = دفعة, دفعه, الدفع, فلوس, نقود, الراتب, راتبي, مبلغ, المساعدة الشهرية
route-schooling = مدرسة, مدرسه, مدارس, درس, دروس, دراسة, دراسه, تعليم, تدريب, كورس, إنجليزي, انجليزي, انكليزي, جامعة
route-return = عودة, عوده, أرجع, رجوع, أعود, إلى بلدي, لبلدي, إلى بلادي, لبلادي, إلى الوطن, لوطني
route-health = طبيب, دكتور, مستشفى, عيادة, عياده, مريض, مرض, دواء, أدوية, علاج, وجع, الصحة, السكن, سكني, المنزل, منزلي, الشقة, كهرباء
