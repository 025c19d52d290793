# Farsi (fa). Words a person can send at any time, separated by commas. Matching ignores case,
# surrounding punctuation, harakat and tatweel, and folds Arabic/Persian letter variants. The English
# words work in every locale anyway; list here the words people of this language would type.
# Words used as commands in main.ftl («توقف», «حذف», «حریم خصوصی», «شروع») must stay in these lists.
# No "درس" here (it is inside "درست", ok); no "وطن" alone (inside "هموطن"); no "اسکان" alone
# (it also means housing). "پول" is also inside "پولیو" (polio): accepted, money is the main word.
# Machine-drafted, NOT yet reviewed by a native speaker: see locales/REVIEW.md.

# Never a bare «بس» or «بسه» as stop: said in a chat with a person ("that's all"), it would switch
# off payment notices. Joined "میخواهم" and spaced "می خواهم" are both listed (no ZWNJ key).
## Commands: the whole message must be one of these words.
keyword-menu = منو, فهرست, منوی اصلی, 0
keyword-language = زبان, تغییر زبان, zaban
keyword-agent = کارمند, مترجم, اپراتور, پشتیبانی, کمک, کارشناس, مترجم می خواهم, مترجم میخواهم, مترجم میخوام, komak, karmand, motarjem
keyword-stop = توقف, لغو, استاپ, ستاپ, لغو عضویت, لغو اشتراک, دیگه نفرستید, دیگر نفرستید
keyword-start = شروع, شروع دوباره, فعال کن, استارت
keyword-privacy = حریم خصوصی, حریم شخصی, حریم
keyword-delete = حذف, حذف کنید, حذف کن, حذف اطلاعات, اطلاعاتم را پاک کنید, پاک کن, پاک کنید, پاک کردن اطلاعات, hazf, hazf kon

## Safety words are in safeguarding.txt beside this file (one phrase a line, two tiers).

## Free-text routing: a message that is not a menu number but contains one of these words or
## phrases goes to that topic.
route-resettlement = کشور سوم, اسکان مجدد, کانادا, استرالیا, آمریکا, نیوزیلند, یو ان اچ سی آر, کمیساریا
route-payments = پول, پرداخت, واریز, کمک هزینه, مستمری
route-schooling = مدرسه, کلاس, آموزش, تحصیل, دبیرستان
route-return = بازگشت داوطلبانه, برگشت داوطلبانه, بازگشت به وطن, برگشت به وطن, به وطن برگرد, به کشورم برگرد, برگشت به کشورم, به ایران برگرد, به افغانستان برگرد
route-health = دکتر, پزشک, بیمارستان, درمانگاه, کلینیک, مریض, بیمار, دارو, درد, مشکل خانه, خانه ما, خانه ام, اتاق, صاحبخانه
