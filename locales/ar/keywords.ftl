# Arabic (ar). Words a person can send at any time, separated by commas. Matching ignores case,
# surrounding punctuation, harakat and tatweel, and folds Arabic/Persian letter variants. The English
# words (menu, language, agent, stop, start) work in every locale anyway; list here the words people
# of this language would type. Words used as commands in main.ftl («موظف», «ابدأ») must stay here.
# Hamza forms (أ إ / ا) are listed both ways in case the matcher does not fold them.
keyword-menu = القائمة, قائمة, القائمة الرئيسية, 0
keyword-language = اللغة, لغة, تغيير اللغة
keyword-agent = موظف, شخص, مترجم, إنسان, انسان
keyword-stop = توقف, إيقاف, ايقاف, إلغاء الاشتراك
keyword-start = ابدأ, ابدا, بدء, اشتراك
