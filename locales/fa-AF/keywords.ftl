# Dari (fa-AF). Words a person can send at any time, separated by commas. Matching ignores case,
# surrounding punctuation, harakat and tatweel, and folds Arabic/Persian letter variants. The English
# words (menu, language, agent, stop, start) work in every locale anyway; list here the words people
# of this language would type. Words used as commands in main.ftl («کارمند», «شروع») must stay here.
keyword-menu = فهرست, مینو, منو, فهرست اصلی, 0
keyword-language = زبان, تغییر زبان, تبدیل زبان, zaban
keyword-agent = کارمند, ترجمان, مترجم, شخص, کمک
keyword-stop = توقف, بس کن, لغو, قطع
keyword-start = شروع, آغاز, دوباره شروع
