# Dari (fa-AF). Words a person can send at any time, separated by commas. Matching ignores case,
# surrounding punctuation, harakat and tatweel, and folds Arabic/Persian letter variants. The English
# words work in every locale anyway; list here the words people of this language would type.
# Words used as commands in main.ftl («توقف», «حذف», «محرمیت», «شروع») must stay in these lists.
# No Farsi word for money here (it is inside the Dari word for police); no "درس" (inside "درست",
# ok); no "وطن" alone (inside "وطندار"); no "دوا" alone (inside "دوازده", twelve).
# Machine-drafted, NOT yet reviewed by a native speaker: see locales/REVIEW.md.

## Commands: the whole message must be one of these words.
keyword-menu = فهرست, مینو, منو, فهرست اصلی, 0
keyword-language = زبان, تغییر زبان, تبدیل زبان, zaban
keyword-agent = کارمند, ترجمان, مترجم, شخص, کمک
keyword-stop = توقف, بس کن, دیگر نفرستید, لغو اطلاعیه
keyword-start = شروع, آغاز, دوباره شروع, شروع دوباره
keyword-privacy = محرمیت, حریم خصوصی, حریم شخصی
keyword-delete = حذف, حذف معلومات, پاک کن, پاک کردن معلومات

## Safety words are in safeguarding.txt beside this file (one phrase a line, two tiers).

## Free-text routing: a message that is not a menu number but contains one of these words or
## phrases goes to that topic.
route-resettlement = کشور سوم, اسکان مجدد, انتقال می شویم, انتقال می شوم, کانادا, استرالیا, امریکا, نیوزیلند, یو ان اچ سی آر, کمیساریا
route-payments = پیسه, معاش, پرداخت, کمک نقدی
route-schooling = مکتب, صنف, کورس, لیسه, تحصیل, آموزش
route-return = برگشت داوطلبانه, بازگشت داوطلبانه, برگشت به وطن, بازگشت به وطن, رفتن به وطن, به وطن برگرد, به کشورم برگرد, به افغانستان برگرد
route-health = داکتر, شفاخانه, مریض, بیمار, کلینیک, دوای, دواخانه, درد, مشکل خانه, خانه ما, خانه ام, اتاق, محل بود و باش
