# Arabic (ar): Modern Standard Arabic, short and simple (readers speak Iraqi, Sudanese, Yemeni dialects).
# Plain words, one idea per sentence. Arabic letters ي and ك only, never Persian پ چ ژ گ ی ک.
# At most 134 characters per message (2 UCS-2 SMS); menu option labels at most 24.
# No ZWNJ, no bidi marks. Start every text with an Arabic word, not with IOM or a digit, so that
# phones lay the message out right to left.
# Command words in «...» (توقف، احذف، الخصوصية، ابدأ) must stay in keywords.ftl.
# Machine-drafted, NOT yet reviewed by a native speaker: see locales/REVIEW.md.

## The language itself
# The language's own name, shown in the language menu of every locale.
language-name = العربية
# First line of the language menu; the numbered list of languages follows it.
language-menu = اختر لغتك. أرسل رقما:

## Consent and privacy (first contact, after the language)
consent-notice = لكي نساعدك، نحفظ رقمك ولغتك ورسائلك. لا يراها إلا موظفو خدمة المساعدة.
consent-agree = أوافق
consent-more = أخبرني بالمزيد
privacy-info = نحفظ رقمك ولغتك ومدينتك ورسائلك مدة { $retain_days ->
        [zero] { $retain_days } يوم
        [one] يوم واحد
        [two] يومين
        [few] { $retain_days } أيام
        [many] { $retain_days } يوما
       *[other] { $retain_days } يوما
    } على الأكثر. لا نسأل أبدا عن أسباب لجوئك أو دينك أو أصلك العرقي.
privacy-rights = أرسل «توقف» لإيقاف الإشعارات. أرسل «احذف» لطلب حذف بياناتك. أرسل «الخصوصية» لقراءة هذا مرة أخرى.
delete-requested = سنحذف بياناتك. سيؤكد الموظفون ذلك برسالة. يمكنك أن تكتب لنا مرة أخرى في أي وقت.

## Main menu
welcome = شكرا. اسأل هنا عن المساعدة الشهرية والمدرسة والعودة إلى الوطن وإعادة التوطين والصحة. الخدمة مجانية.
main-menu = أرسل رقما:
main-menu-payments = المساعدة الشهرية
main-menu-schooling = المدرسة والدروس
main-menu-return = العودة الطوعية للوطن
main-menu-resettlement = إعادة التوطين والمفوضية
main-menu-health = الصحة والسكن
main-menu-person = تحدث مع شخص

## Monthly payment
payments-menu = المساعدة الشهرية. أرسل رقما:
payments-menu-date = موعد المساعدة القادمة
payments-menu-problem = مساعدة لم تصل أو خاطئة
payments-menu-rules = كيف تصرف المساعدة
payments-city = في أي مدينة تسكن؟ أرسل رقما:
payments-date = المساعدة القادمة في { $city }: { $date }. للقائمة أرسل 0.
payments-no-dates = ليست لدينا مواعيد المساعدة بعد. سيرسلها الموظفون برسالة. للقائمة أرسل 0.
payments-date-unknown = ليس لدينا الموعد القادم في { $city } بعد. سيرسله الموظفون برسالة. للقائمة أرسل 0.
payments-rules = تدفع IOM مساعدة شهرية للأشخاص الذين ترعاهم. المبلغ يعتمد على عائلتك. يرسل الموظفون المواعيد برسالة. للقائمة أرسل 0.
payments-case = من فضلك أرسل رقم ملفك في IOM (الأرقام فقط).
payments-case-invalid = هذا ليس رقم ملف. من فضلك أرسل الأرقام فقط، مثلا 12345.
payments-problem-sent = شكرا. سيتحقق الموظفون من مساعدتك الشهرية ويردون عليك هنا. للقائمة أرسل 0.

## School and classes
schooling-menu = المدرسة والدروس. أرسل رقما:
schooling-menu-children = مدرسة للأطفال
schooling-menu-informal = دروس غير رسمية
schooling-menu-vocational = تدريب مهني
schooling-menu-english = دروس اللغة الإنجليزية
schooling-menu-register = أريد التسجيل
schooling-children = يمكن للأطفال الذهاب إلى المدرسة في إندونيسيا. يمكن أن تساعد IOM في التسجيل. لطلب مكان، أرسل 1:
schooling-informal = توجد دروس غير رسمية للأطفال والكبار في السكن المجتمعي. اسأل الموظفين عن المواعيد. للقائمة أرسل 0.
schooling-vocational = في بعض المدن تدريب مهني، مثل الخياطة أو الكمبيوتر. الأماكن قليلة. للقائمة أرسل 0.
schooling-english = في بعض المدن دروس في اللغة الإنجليزية. للانضمام، أرسل 1:
schooling-register-who = لمن التسجيل؟ أرسل رقما:
schooling-register-child = طفلي
schooling-register-me = أنا
schooling-child-age = كم عمر الطفل؟ أرسل العمر بالسنوات، مثلا 8.
schooling-child-age-invalid = من فضلك أرسل العمر رقما من 3 إلى 18، مثلا 8.
schooling-interest = ماذا تريد أن تتعلم؟ أرسل رقما:
schooling-registered = شكرا. سيكتب إليك الموظفون هنا بخصوص مكان في الدروس. للقائمة أرسل 0.

## Going home (assisted voluntary return)
return-menu = العودة إلى الوطن (عودة طوعية). أرسل رقما:
return-menu-what = ما هي العودة الطوعية؟
return-menu-choice = هل القرار لي؟
return-menu-who = من يمكنه العودة؟
return-menu-counsellor = التحدث مع مستشار العودة
return-what = إذا أردت العودة إلى بلدك، يمكن أن تساعدك IOM في السفر والوثائق، وببعض الدعم بعد وصولك.
return-iom-contacts = مكتب IOM في { $city }:
    { $contacts }
    للقائمة أرسل 0.
return-iom-none = ليس لدينا بعد وسيلة تواصل مع مكتب IOM في { $city }. للقائمة أرسل 0.
return-iom-none-yet = ليس لدينا بعد وسائل تواصل مع مكتب IOM لأي مدينة. للقائمة أرسل 0.
return-choice = القرار دائما لك. العودة مجانية. ما تخبرنا به يبقى سريا. سؤالك لا يؤثر على ملفك. للقائمة أرسل 0.
return-who = هذا يعتمد على بلدك ووضعك. يقرر ذلك موظفو IOM، لا هذه الخدمة الآلية. يمكن لمستشار أن يشرح لك. للقائمة أرسل 0.
return-counsellor-sent = شكرا. سيرد عليك مستشار العودة هنا. أسئلتك تبقى سرية. للقائمة أرسل 0.

## Resettlement and UNHCR
resettlement-menu = إعادة التوطين والمفوضية (UNHCR). أرسل رقما:
resettlement-menu-when = متى سيعاد توطيني؟
resettlement-menu-iom = ما لا تفعله IOM
resettlement-menu-unhcr = كيف أتواصل مع المفوضية
resettlement-menu-travel = تم قبولي: أسئلة السفر
resettlement-when = لا تقرر IOM إعادة التوطين. المفوضية (UNHCR) والدول هي التي تقرر. لا أحد هنا يعرف إن كان ذلك سيحدث أو متى. للقائمة أرسل 0.
resettlement-iom = لا تجري IOM مقابلات تحديد صفة اللاجئ. لا تختار IOM الأشخاص لإعادة التوطين. لا تقوم IOM بترحيل أحد. للقائمة أرسل 0.
resettlement-unhcr = لأسئلة صفة اللاجئ أو إعادة التوطين، تواصل مع UNHCR في إندونيسيا.
resettlement-unhcr-contacts = وسائل التواصل مع UNHCR في { $city }:
    { $contacts }
    للقائمة أرسل 0.
resettlement-unhcr-none = ليس لدينا بعد وسيلة تواصل مع UNHCR في { $city }. للقائمة أرسل 0.
resettlement-unhcr-none-yet = ليس لدينا بعد وسائل تواصل مع UNHCR لأي مدينة. للقائمة أرسل 0.
resettlement-travel-sent = شكرا. سيجيب الموظفون هنا عن أسئلة سفرك (التذكرة، الفحص الطبي، الموعد). للقائمة أرسل 0.

## Health and housing
health-menu = الصحة والسكن. أرسل رقما:
health-menu-medical = أحتاج إلى طبيب
health-menu-interpreter = مترجم في موعد طبي
health-menu-housing = مشكلة في سكني
health-medical = في حالة الطوارئ اتصل برقم 112. لمشاكل الصحة الأخرى أخبر موظفي IOM. يمكن أن ترسلك IOM إلى عيادة.
health-clinic-contacts = العيادات في { $city }:
    { $contacts }
    للقائمة أرسل 0.
health-clinic-none = ليس لدينا بعد عيادة في { $city }. أخبر موظفي IOM. للقائمة أرسل 0.
health-clinic-none-yet = ليس لدينا بعد عيادات لأي مدينة. أخبر موظفي IOM. للقائمة أرسل 0.
health-interpreter = يمكن أن ترسل IOM مترجما إلى موعدك الطبي. أخبر الموظفين بالتاريخ والمكان مبكرا. للقائمة أرسل 0.
health-housing-describe = من فضلك اكتب مشكلة السكن في كلمات قليلة.
health-housing-sent = شكرا. سيرد عليك الموظفون هنا بخصوص مشكلة السكن. للقائمة أرسل 0.

## Safety
safeguarding-reply = شكرا لأنك أخبرتنا. إذا كنت في خطر الآن، فاتصل برقم 112. سيكتب إليك مشرف هنا في أقرب وقت ممكن.

## Talking to a person
human-waiting = شكرا. سيرد عليك شخص هنا قريبا. يمكنك أن تكتب المزيد الآن. للقائمة أرسل 0.
not-understood = عذرا، لم أفهم. من فضلك أرسل رقما من القائمة.
offer-human = ما زلت لم أفهم. أرسل 1 للتحدث مع شخص، أو 0 للقائمة.

## Other channels (WhatsApp)
# Reply to a voice note, photo or document: a person will handle it.
media-received = شكرا. سيستمع شخص إلى ما أرسلته أو يطلع عليه، ثم يرد عليك هنا. للقائمة أرسل 0.
# Reply to a location, sticker, contact card or anything else we cannot read.
unsupported-message = عذرا، أستطيع قراءة النصوص والرسائل الصوتية والصور والمستندات فقط. من فضلك اكتب سؤالك، أو أرسل 0 للقائمة.
# The button that opens a WhatsApp list menu (at most 20 characters).
menu-button = اختر

## Working hours and closing (interpreter queue)
after-hours = شكرا. المكتب مغلق الآن. سيرد عليك شخص { $day ->
        [today] اليوم
        [tomorrow] غدا
        [mon] يوم الاثنين
        [tue] يوم الثلاثاء
        [wed] يوم الأربعاء
        [thu] يوم الخميس
        [fri] يوم الجمعة
        [sat] يوم السبت
        [sun] يوم الأحد
       *[other] في يوم العمل التالي
    } ابتداء من الساعة { $time }.
ticket-closed = هذه المحادثة مغلقة. إذا كتبت مرة أخرى خلال 24 ساعة، فسيرد عليك الشخص نفسه. للقائمة أرسل 0.

## Notices on and off
stopped = لن تصلك إشعارات منا بعد الآن. ما زال بإمكانك أن تكتب لنا. لتلقي الإشعارات مرة أخرى، أرسل START أو «ابدأ».
started = ستصلك الإشعارات مرة أخرى. للقائمة أرسل 0.
