# Arabic (ar). Words a person can send at any time, separated by commas. Matching ignores case,
# surrounding punctuation, harakat and tatweel, and folds Arabic/Persian letter variants (ي ى ك,
# and أ إ آ to bare ا). The English words work in every locale anyway; list here the words people
# of this language would type. Words used as commands in main.ftl («توقف», «احذف», «الخصوصية»,
# «ابدأ») must stay here. Final ة is often typed as ه (and ئ as ي): commands list both forms, so
# they match whether or not the normaliser folds ة to ه. Never a bare «بس», «خلاص» or «كفى» as
# stop: said in a chat with a person ("that's all"), it would switch off payment notices.
# Machine-drafted, NOT yet reviewed by a native speaker: see locales/REVIEW.md.

## Commands: the whole message must be one of these words.
keyword-menu = القائمة, القائمه, القايمة, القايمه, قائمة, قائمه, قايمة, قايمه, القائمة الرئيسية, القائمه الرئيسيه, منيو, المنيو, 0
keyword-language = اللغة, اللغه, لغة, لغه, تغيير اللغة, تغيير اللغه
keyword-agent = موظف, موظفة, موظفه, شخص, مترجم, مترجمة, مترجمه, إنسان, ساعدني, مساعدة, مساعده, اريد موظف, اريد مترجم
keyword-stop = توقف, وقف, إيقاف, أوقف, اوقف الرسائل, إلغاء الاشتراك
keyword-start = ابدأ, ابدا, بدء, اشتراك, تشغيل
keyword-privacy = الخصوصية, الخصوصيه, خصوصية, خصوصيه, سياسة الخصوصية, سياسة الخصوصيه
keyword-delete = احذف, حذف, احذف بياناتي, امسح بياناتي, احذفوا بياناتي

## Safety words are in safeguarding.txt beside this file (one phrase a line, two tiers).

## Free-text routing: a message that is not a menu number but contains one of these words or
## phrases goes to that topic.
route-resettlement = توطين, بلد ثالث, دولة ثالثة, دوله ثالثه, مفوضية, مفوضيه, الأمم المتحدة, UNHCR, كندا, أستراليا, استراليا, أمريكا, امريكا, نيوزيلندا, متى نسافر, متى أسافر
route-payments = دفعة, دفعه, الدفع, فلوس, نقود, الراتب, راتبي, مبلغ, المساعدة الشهرية
route-schooling = مدرسة, مدرسه, مدارس, درس, دروس, دراسة, دراسه, تعليم, تدريب, كورس, إنجليزي, انجليزي, انكليزي, جامعة
route-return = عودة, عوده, أرجع, رجوع, أعود, إلى بلدي, لبلدي, إلى بلادي, لبلادي, إلى الوطن, لوطني
route-health = طبيب, دكتور, مستشفى, عيادة, عياده, مريض, مرض, دواء, أدوية, علاج, وجع, الصحة, السكن, سكني, المنزل, منزلي, الشقة, كهرباء
