# Farsi (fa). Words a person can send at any time, separated by commas. Matching ignores case,
# surrounding punctuation, harakat and tatweel, and folds Arabic/Persian letter variants. The English
# words (menu, language, agent, stop, start) work in every locale anyway; list here the words people
# of this language would type. Words used as commands in main.ftl («کارمند», «شروع») must stay here.
keyword-menu = منو, فهرست, منوی اصلی, 0
keyword-language = زبان, تغییر زبان, zaban
keyword-agent = کارمند, مترجم, اپراتور, پشتیبانی, کمک
keyword-stop = توقف, لغو, لغو عضویت, قطع
keyword-start = شروع, فعال, شروع دوباره
