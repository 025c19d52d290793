# Farsi (fa): Persian as written in Iran. Keep every message short, plain words, one idea per sentence.
# Use Farsi words (پول، مدرسه، ممنون، دکتر، بیمارستان، بله، تلفن), not Dari ones.
# Persian letters ی (U+06CC) and ک (U+06A9) only. At most 134 characters per message (2 UCS-2 SMS).
# No ZWNJ (write a space), no bidi marks. Start every text with a Persian word, not with IOM or a
# digit, so that phones lay the message out right to left.
# Machine-drafted, NOT yet reviewed by a native speaker: see locales/REVIEW.md.

## The language itself
# The language's own name, shown in the language menu of every locale.
language-name = فارسی (ایران)
# First line of the language menu; the numbered list of languages follows it.
language-menu = زبان خود را انتخاب کنید. یک شماره بفرستید:

## Consent and privacy (first contact, after the language)
consent-notice = برای کمک به شما، شماره تلفن، زبان و پیام های شما را نگه می داریم. فقط کارکنان ما آن ها را می بینند.
consent-agree = موافقم
consent-more = اطلاعات بیشتر
privacy-info = شماره، زبان، شهر و پیام های شما را حداکثر { $retain_days } روز نگه می داریم. ما هرگز درباره دلایل پناهندگی، دین یا قومیت شما سوال نمی کنیم.
privacy-rights = برای قطع اطلاعیه ها «توقف» بفرستید. برای درخواست حذف اطلاعاتتان «حذف» بفرستید. برای خواندن دوباره این متن «حریم خصوصی» بفرستید.
delete-requested = اطلاعات شما را حذف می کنیم. کارکنان با پیام تایید می کنند. هر زمان خواستید، دوباره به ما پیام بدهید.

## Main menu
welcome = ممنون. اینجا درباره پول ماهانه، مدرسه، بازگشت به وطن، اسکان مجدد (کشور سوم) و سلامت سوال کنید. پاسخ ها رایگان است.
main-menu = یک شماره بفرستید:
main-menu-payments = پول ماهانه
main-menu-schooling = مدرسه و کلاس ها
main-menu-return = بازگشت داوطلبانه
main-menu-resettlement = اسکان مجدد و UNHCR
main-menu-health = سلامت و محل زندگی
main-menu-person = صحبت با یک نفر

## Monthly payment
payments-menu = پول ماهانه. یک شماره بفرستید:
payments-menu-date = تاریخ پرداخت بعدی
payments-menu-problem = پول نرسید یا اشتباه است
payments-menu-rules = پول چطور پرداخت می شود
payments-city = در کدام شهر زندگی می کنید؟ یک شماره بفرستید:
payments-date = پرداخت بعدی در { $city }: { $date }. برای منو 0 بفرستید.
payments-no-dates = هنوز تاریخ پرداخت را نداریم. کارکنان آن را با پیام می فرستند. برای منو 0 بفرستید.
payments-date-unknown = هنوز تاریخ بعدی { $city } را نداریم. کارکنان آن را با پیام می فرستند. برای منو 0 بفرستید.
payments-rules = پول ماهانه را IOM به افراد تحت حمایت خود می پردازد. مبلغ آن به خانواده شما بستگی دارد. تاریخ ها با پیام می آید. برای منو 0 بفرستید.
payments-case = لطفا شماره پرونده IOM خود را بفرستید (فقط عدد).
payments-case-invalid = این شماره پرونده نیست. لطفا فقط عدد بفرستید، مثلا 12345.
payments-problem-sent = ممنون. کارکنان پرداخت شما را بررسی می کنند و همین جا پاسخ می دهند. برای منو 0 بفرستید.

## School and classes
schooling-menu = مدرسه و کلاس ها. یک شماره بفرستید:
schooling-menu-children = مدرسه برای کودکان
schooling-menu-informal = کلاس های غیر رسمی
schooling-menu-vocational = آموزش حرفه ای
schooling-menu-english = کلاس انگلیسی
schooling-menu-register = می خواهم ثبت نام کنم
schooling-children = کودکان اینجا می توانند به مدرسه بروند. IOM می تواند در ثبت نام کمک کند. برای درخواست جا در مدرسه 1 بفرستید:
schooling-informal = در محل های زندگی جمعی برای کودکان و بزرگسالان کلاس های غیر رسمی هست. ساعت ها را از کارکنان بپرسید. برای منو 0 بفرستید.
schooling-vocational = در بعضی شهرها آموزش حرفه ای مثل خیاطی یا کامپیوتر هست. ظرفیت کم است. برای منو 0 بفرستید.
schooling-english = در بعضی شهرها کلاس زبان انگلیسی هست. برای شرکت 1 بفرستید:
schooling-register-who = برای چه کسی است؟ یک شماره بفرستید:
schooling-register-child = فرزندم
schooling-register-me = خودم
schooling-child-age = کودک چند سال دارد؟ سن را به سال بفرستید، مثلا 8.
schooling-child-age-invalid = لطفا سن را با یک عدد از 3 تا 18 بفرستید، مثلا 8.
schooling-interest = چه چیزی می خواهید یاد بگیرید؟ یک شماره بفرستید:
schooling-registered = ممنون. کارکنان درباره جای خالی همین جا به شما پیام می دهند. برای منو 0 بفرستید.

## Going home (assisted voluntary return)
return-menu = بازگشت داوطلبانه. یک شماره بفرستید:
return-menu-what = بازگشت داوطلبانه چیست؟
return-menu-choice = آیا تصمیم با خودم است؟
return-menu-who = چه کسی می تواند برود؟
return-menu-counsellor = صحبت با مشاور
return-what = اگر بخواهید به کشورتان برگردید، IOM می تواند کمک کند: سفر، مدارک و کمی حمایت بعد از رسیدن.
return-iom-contacts = دفتر IOM در { $city }:
    { $contacts }
    برای منو 0 بفرستید.
return-iom-none = هنوز راه تماس دفتر IOM برای { $city } نداریم. برای منو 0 بفرستید.
return-iom-none-yet = هنوز راه تماس دفتر IOM برای هیچ شهری نداریم. برای منو 0 بفرستید.
return-choice = تصمیم همیشه با شماست. بازگشت رایگان است. حرف های شما محرمانه می ماند. سوال کردن روی پرونده شما اثری ندارد. برای منو 0 بفرستید.
return-who = این به کشور و وضعیت شما بستگی دارد. این را کارکنان IOM تصمیم می گیرند، نه این سامانه. مشاور می تواند توضیح بدهد. برای منو 0 بفرستید.
return-counsellor-sent = ممنون. یک مشاور بازگشت همین جا به شما پاسخ می دهد. سوال های شما محرمانه می ماند. برای منو 0 بفرستید.

## Resettlement and UNHCR
resettlement-menu = اسکان مجدد و UNHCR. یک شماره بفرستید:
resettlement-menu-when = کی به کشور سوم می روم؟
resettlement-menu-iom = کارهایی که IOM نمی کند
resettlement-menu-unhcr = تماس با UNHCR
resettlement-menu-travel = قبول شدم: سوال سفر
resettlement-when = تصمیم اسکان مجدد با IOM نیست. UNHCR و کشورها تصمیم می گیرند. اینجا کسی نمی داند انجام می شود یا نه، و کی. برای منو 0 بفرستید.
resettlement-iom = مصاحبه پناهندگی کار IOM نیست. IOM افراد را برای اسکان مجدد انتخاب نمی کند. IOM کسی را اخراج نمی کند. برای منو 0 بفرستید.
resettlement-unhcr = برای پناهندگی یا اسکان مجدد، با UNHCR اندونزی تماس بگیرید.
resettlement-unhcr-contacts = راه های تماس UNHCR در { $city }:
    { $contacts }
    برای منو 0 بفرستید.
resettlement-unhcr-none = هنوز راه تماس UNHCR برای { $city } نداریم. برای منو 0 بفرستید.
resettlement-unhcr-none-yet = هنوز راه تماس UNHCR برای هیچ شهری نداریم. برای منو 0 بفرستید.
resettlement-travel-sent = ممنون. کارکنان همین جا به سوال های سفر شما پاسخ می دهند (بلیت، معاینه پزشکی، تاریخ). برای منو 0 بفرستید.

## Health and housing
health-menu = سلامت و محل زندگی. یک شماره بفرستید:
health-menu-medical = به دکتر نیاز دارم
health-menu-interpreter = مترجم برای نوبت دکتر
health-menu-housing = مشکل در محل زندگی
health-medical = در موارد اضطراری با 112 تماس بگیرید. برای بقیه مشکلات به کارکنان بگویید. IOM می تواند شما را به درمانگاه بفرستد.
health-clinic-contacts = درمانگاه ها در { $city }:
    { $contacts }
    برای منو 0 بفرستید.
health-clinic-none = هنوز نشانی درمانگاه برای { $city } نداریم. به کارکنان IOM بگویید. برای منو 0 بفرستید.
health-clinic-none-yet = هنوز نشانی درمانگاه برای هیچ شهری نداریم. به کارکنان IOM بگویید. برای منو 0 بفرستید.
health-interpreter = برای نوبت دکتر، IOM می تواند مترجم بفرستد. تاریخ و مکان را زودتر به کارکنان بگویید. برای منو 0 بفرستید.
health-housing-describe = لطفا مشکل محل زندگی را در چند کلمه بنویسید.
health-housing-sent = ممنون. کارکنان همین جا درباره مشکل محل زندگی به شما پاسخ می دهند. برای منو 0 بفرستید.

## Safety
safeguarding-reply = ممنون که به ما گفتید. اگر الان در خطر هستید، با 112 تماس بگیرید. یک سرپرست در اولین فرصت همین جا به شما پیام می دهد.

## Talking to a person
human-waiting = ممنون. یک نفر به زودی همین جا به شما پاسخ می دهد. الان می توانید بیشتر بنویسید. برای منو 0 بفرستید.
not-understood = ببخشید، متوجه نشدم. لطفا یک شماره از فهرست بفرستید.
offer-human = باز هم متوجه نشدم. برای صحبت با یک نفر 1 بفرستید، یا برای منو 0.

## Other channels (WhatsApp)
# Reply to a voice note, photo or document: a person will handle it.
media-received = ممنون. یک نفر چیزی را که فرستادید می شنود یا می بیند و همین جا به شما پاسخ می دهد. برای منو 0 بفرستید.
# Reply to a location, sticker, contact card or anything else we cannot read.
unsupported-message = ببخشید، من فقط می توانم متن، پیام صوتی، عکس و سند را بخوانم. لطفا سوالتان را بنویسید، یا برای منو 0 بفرستید.
# The button that opens a WhatsApp list menu (at most 20 characters).
menu-button = انتخاب کنید

## Working hours and closing (interpreter queue)
after-hours = ممنون. دفتر الان بسته است. یک نفر { $day ->
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
    } از ساعت { $time } به شما پاسخ می دهد.
ticket-closed = این گفتگو بسته شد. اگر تا 24 ساعت دوباره پیام بدهید، همان نفر پاسخ می دهد. برای منو 0 بفرستید.

## Notices on and off
stopped = دیگر از ما اطلاعیه دریافت نمی کنید. هنوز می توانید به ما پیام بدهید. برای دریافت دوباره اطلاعیه ها «شروع» بفرستید.
started = اطلاعیه ها دوباره فعال شد. برای منو 0 بفرستید.
