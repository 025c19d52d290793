# Tigrinya (ti). Words a person can send at any time, separated by commas. Matching ignores case,
# surrounding punctuation, harakat and tatweel, and folds Arabic/Persian letter variants. The English
# words (menu, language, agent, stop, start) work in every locale anyway; list here the words people
# of this language would type. Words used as commands in main.ftl («ሰብ», «ጀምር») must stay here.
keyword-menu = ዝርዝር, ቀንዲ ዝርዝር, ሜኑ, 0
keyword-language = ቋንቋ, ቋንቋ ቀይር, ቋንቋ ምቕያር
keyword-agent = ሰብ, ሰራሕተኛ, ተርጓሚ, ሓገዝ
keyword-stop = ደው በል, ኣቋርጽ, ኣቋርጹ
keyword-start = ጀምር, ጀምሩ, ምጅማር
