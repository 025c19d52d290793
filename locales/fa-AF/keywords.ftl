# Dari (fa-AF). Words a person can send at any time, separated by commas. Matching ignores case,
# surrounding punctuation, harakat and tatweel, and folds Arabic/Persian letter variants. The English
# words work in every locale anyway; list here the words people of this language would type.
# Words used as commands in main.ftl («توقف», «حذف», «محرمیت», «شروع») must stay in these lists.
# No Farsi word for money here (it is inside the Dari word for police); no "درس" (inside "درست",
# ok); no "وطن" alone (inside "وطندار"); no "دوا" alone (inside "دوازده", twelve).
# Machine-drafted, NOT yet reviewed by a native speaker: see locales/REVIEW.md.

# Never a bare «بس» or «بس است» as stop: said in a chat with a person ("that's all"), it would switch
# off payment notices. Joined "میخواهم" and spaced "می خواهم" are both listed (no ZWNJ key).
## Commands: the whole message must be one of these words.
keyword-menu = فهرست, مینو, منو, فهرست اصلی, 0
keyword-language = زبان, تغییر زبان, تبدیل زبان, zaban, zabaan
keyword-agent = کارمند, ترجمان, مترجم, شخص, کمک, ترجمان می خواهم, ترجمان میخواهم, مترجم می خواهم, مترجم میخواهم, کارمند می خواهم, کارمند میخواهم, komak, karmand, tarjuman, tarjoman
keyword-stop = توقف, ستاپ, استاپ, بس کن, دیگر نفرستید, لغو اطلاعیه
keyword-start = شروع, آغاز, دوباره شروع, شروع دوباره, استارت, شروع کن
keyword-privacy = محرمیت, حریم خصوصی, حریم شخصی
keyword-delete = حذف, حذف کنید, حذف کن, حذف معلومات, معلوماتم را حذف کنید, پاک کن, پاک کنید, پاک کردن معلومات, hazf, hazf kon

## Safety words are in safeguarding.txt beside this file (one phrase a line, two tiers).

## Free-text routing: a message that is not a menu number but contains one of these words or
## phrases goes to that topic.
route-resettlement = کشور سوم, اسکان مجدد, انتقال می شویم, انتقال می شوم, کانادا, استرالیا, امریکا, نیوزیلند, یو ان اچ سی آر, کمیساریا
route-payments = پیسه, معاش, پرداخت, کمک نقدی
route-schooling = مکتب, صنف, کورس, لیسه, تحصیل, آموزش
route-return = برگشت داوطلبانه, بازگشت داوطلبانه, برگشت به وطن, بازگشت به وطن, رفتن به وطن, به وطن برگرد, به کشورم برگرد, به افغانستان برگرد, به افغانستان بروم, به افغانستان برم, افغانستان برم, پس به افغانستان, پس به وطن
route-health = داکتر, شفاخانه, مریض, بیمار, کلینیک, دوای, دواخانه, درد, مشکل خانه, خانه ما, خانه ام, اتاق, محل بود و باش
