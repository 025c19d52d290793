# Farsi (fa): Persian as written in Iran. Keep every message short, plain words, one idea per sentence.
# Use Farsi words (پول، مدرسه، ممنون، دکتر، بیمارستان، بله، تلفن), not Dari ones.
# Persian letters ی (U+06CC) and ک (U+06A9) only. At most 134 characters per message (2 UCS-2 SMS).
# Machine-drafted, NOT yet reviewed by a native speaker: see locales/REVIEW.md.

## The language itself
# The language's own name, shown in the language menu of every locale.
language-name = فارسی
# First line of the language menu; the numbered list of languages follows it.
language-menu = زبان خود را انتخاب کنید. یک شماره بفرستید:

## First contact and main menu
welcome = به مرکز کمک IOM خوش آمدید. پاسخ ها رایگان است. اگر پاسخ ها کافی نبود، یک نفر می تواند به شما کمک کند.
main-menu = منوی اصلی. یک شماره بفرستید:
main-menu-payments = پول ماهانه
main-menu-schooling = مدرسه و کلاس ها
main-menu-return = رفتن به وطن (بازگشت داوطلبانه)
main-menu-person = صحبت با یک نفر

## Answers
payments-info = IOM پول ماهانه را هر ماه یک بار می پردازد. کارکنان تاریخ را با پیام می فرستند. اگر پول نرسید، «کارمند» بفرستید. برای منو 0 بفرستید.
schooling-info = کودکان می توانند به مدرسه بروند. کلاس های بزرگسالان هم هست. برای سوال درباره ثبت نام، با یک نفر صحبت کنید. برای منو 0 بفرستید.
return-info = اگر بخواهید، IOM می تواند در برگشت به وطن کمکتان کند. تصمیم با شماست، رایگان و محرمانه. یک نفر بیشتر توضیح می دهد. برای منو 0 بفرستید.

## Talking to a person
human-waiting = ممنون. یک نفر به زودی همین جا به شما پاسخ می دهد. الان می توانید بیشتر بنویسید. برای منو 0 بفرستید.
not-understood = ببخشید، متوجه نشدم. لطفا یک شماره از فهرست بفرستید.
offer-human = باز هم متوجه نشدم. برای صحبت با یک نفر 1 بفرستید، یا برای منو 0.

## Notices on and off
stopped = دیگر از ما اطلاعیه دریافت نمی کنید. هنوز می توانید به ما پیام بدهید. برای دریافت دوباره اطلاعیه ها، START یا «شروع» بفرستید.
started = اطلاعیه ها دوباره فعال شد. برای منو 0 بفرستید.
