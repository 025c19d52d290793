# Dari (fa-AF): Afghan Persian. Keep every message short, plain words, one idea per sentence.
# Use Dari words (پیسه، مکتب، تشکر، داکتر، شفاخانه، بلی، تلفون), not Iranian Farsi ones.
# Persian letters ی (U+06CC) and ک (U+06A9) only. At most 134 characters per message (2 UCS-2 SMS).
# No ZWNJ (write a space), no bidi marks. Start every text with a Persian word, not with IOM or a
# digit, so that phones lay the message out right to left.
# Machine-drafted, NOT yet reviewed by a native speaker: see locales/REVIEW.md.

## The language itself
# The language's own name, shown in the language menu of every locale.
language-name = دری (افغانستان)
# First line of the language menu; the numbered list of languages follows it.
language-menu = زبان خود را انتخاب کنید. یک نمبر بفرستید:

## Consent and privacy (first contact, after the language)
consent-notice = برای کمک به شما، نمبر تلفون، زبان و پیام های شما را نگه می داریم. فقط کارمندان ما آن را می بینند.
consent-agree = موافق هستم
consent-more = معلومات بیشتر
privacy-info = نمبر، زبان، شهر و پیام های شما را حد اکثر { $retain_days } روز نگه می داریم. ما هیچ وقت در باره دلیل پناهندگی، دین یا قوم شما نمی پرسیم.
privacy-rights = برای ختم اطلاعیه ها «توقف» بفرستید. برای درخواست حذف معلومات تان «حذف» بفرستید. برای خواندن دوباره این متن «محرمیت» بفرستید.
delete-requested = معلومات شما را حذف می کنیم. کارمندان با پیام تایید می کنند. هر وقت خواستید، دوباره به ما بنویسید.

## Main menu
welcome = تشکر. اینجا در باره پیسه ماهوار، مکتب، رفتن به وطن، کشور سوم و صحت سوال کنید. جواب ها رایگان است.
main-menu = یک نمبر بفرستید:
main-menu-payments = پیسه ماهوار
main-menu-schooling = مکتب و صنف ها
main-menu-return = رفتن به وطن (داوطلبانه)
main-menu-resettlement = کشور سوم و UNHCR
main-menu-health = صحت و خانه
main-menu-person = گپ زدن با یک شخص

## Monthly payment
payments-menu = پیسه ماهوار. یک نمبر بفرستید:
payments-menu-date = تاریخ پیسه بعدی
payments-menu-problem = پیسه نرسید یا غلط است
payments-menu-rules = پیسه چطور داده می شود
payments-city = در کدام شهر زندگی می کنید؟ یک نمبر بفرستید:
payments-date = پیسه بعدی در { $city }: { $date }. برای فهرست 0 بفرستید.
payments-no-dates = هنوز تاریخ پیسه را نداریم. کارمندان آن را با پیام می فرستند. برای فهرست 0 بفرستید.
payments-date-unknown = هنوز تاریخ بعدی { $city } را نداریم. کارمندان آن را با پیام می فرستند. برای فهرست 0 بفرستید.
payments-rules = IOM به کسانی که کمک شان می کند پیسه ماهوار می دهد. مقدارش به فامیل شما مربوط است. تاریخ ها با پیام می آید. برای فهرست 0 بفرستید.
payments-case = لطفا نمبر کیس IOM خود را بفرستید (فقط عدد).
payments-case-invalid = این نمبر کیس نیست. لطفا فقط عدد بفرستید، مثلا 12345.
payments-problem-sent = تشکر. کارمندان پیسه شما را بررسی می کنند و همین جا جواب می دهند. برای فهرست 0 بفرستید.

## School and classes
schooling-menu = مکتب و صنف ها. یک نمبر بفرستید:
schooling-menu-children = مکتب برای اطفال
schooling-menu-informal = صنف های غیر رسمی
schooling-menu-vocational = کورس های مسلکی
schooling-menu-english = کورس انگلیسی
schooling-menu-register = می خواهم نام نویسی کنم
schooling-children = اطفال اینجا مکتب رفته می توانند. IOM در نام نویسی کمک کرده می تواند. برای درخواست جای در مکتب 1 بفرستید:
schooling-informal = در خانه های جمعی برای اطفال و بزرگسالان صنف های غیر رسمی وجود دارد. وقت صنف ها را از کارمندان بپرسید. برای فهرست 0 بفرستید.
schooling-vocational = در بعضی شهرها کورس های مسلکی مثل خیاطی یا کمپیوتر هست. جای کم است. برای فهرست 0 بفرستید.
schooling-english = در بعضی شهرها کورس انگلیسی هست. برای شامل شدن 1 بفرستید:
schooling-register-who = برای کی است؟ یک نمبر بفرستید:
schooling-register-child = طفل من
schooling-register-me = خودم
schooling-child-age = طفل چند ساله است؟ عمر او را به سال بفرستید، مثلا 8.
schooling-child-age-invalid = لطفا عمر را به عدد از 3 تا 18 بفرستید، مثلا 8.
schooling-interest = چه چیز می خواهید یاد بگیرید؟ یک نمبر بفرستید:
schooling-registered = تشکر. کارمندان در باره جای در صنف یا مکتب، همین جا به شما پیام می دهند. برای فهرست 0 بفرستید.

## Going home (assisted voluntary return)
return-menu = رفتن به وطن (داوطلبانه). یک نمبر بفرستید:
return-menu-what = برگشت داوطلبانه چیست؟
return-menu-choice = آیا تصمیم از خودم است؟
return-menu-who = چه کسی می تواند برگردد؟
return-menu-counsellor = گپ با مشاور
return-what = اگر بخواهید به وطن برگردید، IOM می تواند کمک کند: سفر، اسناد و کمی حمایت بعد از رسیدن.
return-iom-contacts = دفتر IOM در { $city }:
    { $contacts }
    برای فهرست 0 بفرستید.
return-iom-none = هنوز آدرس تماس دفتر IOM برای { $city } نداریم. برای فهرست 0 بفرستید.
return-iom-none-yet = هنوز آدرس تماس دفتر IOM برای هیچ شهری نداریم. برای فهرست 0 بفرستید.
return-choice = تصمیم همیشه از شماست. برگشت رایگان است. گپ های شما محرمانه می ماند. سوال کردن بالای کیس شما اثر ندارد. برای فهرست 0 بفرستید.
return-who = این به کشور و وضعیت شما مربوط است. این را کارمندان IOM تصمیم می گیرند، نه این سیستم. مشاور توضیح داده می تواند. برای فهرست 0 بفرستید.
return-counsellor-sent = تشکر. یک مشاور برگشت همین جا به شما جواب می دهد. سوال های شما محرمانه می ماند. برای فهرست 0 بفرستید.

## Resettlement and UNHCR
resettlement-menu = کشور سوم و UNHCR. یک نمبر بفرستید:
resettlement-menu-when = کی به کشور سوم می روم؟
resettlement-menu-iom = کارهایی که IOM نمی کند
resettlement-menu-unhcr = تماس با UNHCR
resettlement-menu-travel = قبول شده ام: سوال سفر
resettlement-when = رفتن به کشور سوم را IOM تصمیم نمی گیرد. UNHCR و کشورها تصمیم می گیرند. اینجا کسی نمی داند می شود یا نه، و کی. برای فهرست 0 بفرستید.
resettlement-iom = مصاحبه پناهندگی کار IOM نیست. IOM مردم را برای کشور سوم انتخاب نمی کند. IOM کسی را دیپورت نمی کند. برای فهرست 0 بفرستید.
resettlement-unhcr = برای پناهندگی یا کشور سوم، با UNHCR اندونیزیا به تماس شوید.
resettlement-unhcr-contacts = آدرس های تماس UNHCR در { $city }:
    { $contacts }
    برای فهرست 0 بفرستید.
resettlement-unhcr-none = هنوز آدرس تماس UNHCR برای { $city } نداریم. برای فهرست 0 بفرستید.
resettlement-unhcr-none-yet = هنوز آدرس تماس UNHCR برای هیچ شهری نداریم. برای فهرست 0 بفرستید.
resettlement-travel-sent = تشکر. کارمندان همین جا به سوال های سفر شما جواب می دهند (تکت، معاینه صحی، تاریخ). برای فهرست 0 بفرستید.

## Health and housing
health-menu = صحت و خانه. یک نمبر بفرستید:
health-menu-medical = به داکتر ضرورت دارم
health-menu-interpreter = ترجمان برای وقت داکتر
health-menu-housing = مشکل در خانه ام
health-medical = در حالت عاجل به 112 زنگ بزنید. برای دیگر مشکلات صحی به کارمندان بگویید. IOM شما را به کلینیک فرستاده می تواند.
health-clinic-contacts = کلینیک ها در { $city }:
    { $contacts }
    برای فهرست 0 بفرستید.
health-clinic-none = هنوز آدرس کلینیک برای { $city } نداریم. به کارمندان IOM بگویید. برای فهرست 0 بفرستید.
health-clinic-none-yet = هنوز آدرس کلینیک برای هیچ شهری نداریم. به کارمندان IOM بگویید. برای فهرست 0 بفرستید.
health-interpreter = برای وقت داکتر، IOM می تواند ترجمان بفرستد. تاریخ و جای آن را چند روز پیش به کارمندان بگویید. برای فهرست 0 بفرستید.
health-housing-describe = لطفا مشکل خانه را در چند کلمه بنویسید.
health-housing-sent = تشکر. کارمندان همین جا در باره مشکل خانه به شما جواب می دهند. برای فهرست 0 بفرستید.

## Safety
safeguarding-reply = تشکر که به ما گفتید. اگر همین حالا در خطر هستید، به 112 زنگ بزنید. یک مسئول هر چه زودتر همین جا به شما پیام می دهد.

## Talking to a person
human-waiting = تشکر. یک شخص به زودی همین جا جواب شما را می دهد. حالا می توانید بیشتر بنویسید. برای فهرست 0 بفرستید.
not-understood = ببخشید، نفهمیدم. لطفا یک نمبر از فهرست بفرستید.
offer-human = باز هم نفهمیدم. برای گپ زدن با یک شخص 1 بفرستید، یا برای فهرست 0.

## Other channels (WhatsApp)
# Reply to a voice note, photo or document: a person will handle it.
media-received = تشکر. یک شخص چیزی را که فرستادید می شنود یا می بیند و همین جا به شما جواب می دهد. برای فهرست 0 بفرستید.
# Reply to a location, sticker, contact card or anything else we cannot read.
unsupported-message = ببخشید، من فقط متن، پیام صوتی، عکس و سند را خوانده می توانم. لطفا سوال خود را بنویسید، یا برای فهرست 0 بفرستید.
# The button that opens a WhatsApp list menu (at most 20 characters).
menu-button = انتخاب کنید

## Working hours and closing (interpreter queue)
after-hours = تشکر. دفتر حالا بسته است. یک شخص { $day ->
        [today] امروز
        [tomorrow] فردا
        [mon] روز دوشنبه
        [tue] روز سه شنبه
        [wed] روز چهارشنبه
        [thu] روز پنجشنبه
        [fri] روز جمعه
        [sat] روز شنبه
        [sun] روز یکشنبه
       *[other] روز کاری بعدی
    } از ساعت { $time } به شما جواب می دهد.
ticket-closed = این گفتگو ختم شد. اگر تا 24 ساعت دوباره بنویسید، همان شخص جواب می دهد. برای فهرست 0 بفرستید.

## Notices on and off
stopped = دیگر از ما اطلاعیه نمی گیرید. هنوز هم می توانید به ما بنویسید. برای گرفتن دوباره اطلاعیه ها «شروع» بفرستید.
started = اطلاعیه ها دوباره برای شما می آید. برای فهرست 0 بفرستید.
