# Dari (fa-AF): Afghan Persian. Keep every message short, plain words, one idea per sentence.
# Use Dari words (پیسه، مکتب، تشکر، داکتر، شفاخانه، بلی، تلفون), not Iranian Farsi ones.
# Persian letters ی (U+06CC) and ک (U+06A9) only. At most 134 characters per message (2 UCS-2 SMS).
# Machine-drafted, NOT yet reviewed by a native speaker: see locales/REVIEW.md.

## The language itself
# The language's own name, shown in the language menu of every locale.
language-name = دری
# First line of the language menu; the numbered list of languages follows it.
language-menu = زبان خود را انتخاب کنید. یک نمبر بفرستید:

## First contact and main menu
welcome = به مرکز کمک IOM خوش آمدید. جواب ها رایگان است. اگر جواب ها کافی نبود، یک شخص می تواند با شما کمک کند.
main-menu = فهرست اصلی. یک نمبر بفرستید:
main-menu-payments = پیسه ماهوار
main-menu-schooling = مکتب و صنف ها
main-menu-return = رفتن به وطن (بازگشت داوطلبانه)
main-menu-person = گپ زدن با یک شخص

## Answers
payments-info = IOM پیسه ماهوار را هر ماه یک بار می دهد. کارمندان تاریخ را با پیام می فرستند. اگر پیسه نرسید، «کارمند» بفرستید. برای فهرست 0 بفرستید.
schooling-info = اطفال می توانند به مکتب بروند. صنف های بزرگسالان هم هست. برای سوال در باره ثبت نام، با یک شخص گپ بزنید. برای فهرست 0 بفرستید.
return-info = اگر بخواهید، IOM می تواند در رفتن به وطن کمک کند. تصمیم از شماست، رایگان و محرمانه. یک شخص معلومات بیشتر می دهد. برای فهرست 0 بفرستید.

## Talking to a person
human-waiting = تشکر. یک شخص به زودی همین جا جواب شما را می دهد. حالا می توانید بیشتر بنویسید. برای فهرست 0 بفرستید.
not-understood = ببخشید، نفهمیدم. لطفا یک نمبر از فهرست بفرستید.
offer-human = باز هم نفهمیدم. برای گپ زدن با یک شخص 1 بفرستید، یا برای فهرست 0.

## Notices on and off
stopped = دیگر از ما اطلاعیه نمی گیرید. هنوز هم می توانید به ما بنویسید. برای گرفتن دوباره اطلاعیه ها، START یا «شروع» بفرستید.
started = اطلاعیه ها دوباره برای شما می آید. برای فهرست 0 بفرستید.
