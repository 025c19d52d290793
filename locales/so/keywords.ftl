# Somali (so). Words a person can send at any time, separated by commas. Matching ignores case,
# surrounding punctuation, harakat and tatweel, and folds Arabic/Persian letter variants. The English
# words (menu, language, agent, stop, start) work in every locale anyway; list here the words people
# of this language would type. GSM-7 characters only.
keyword-menu = liiska, liis, liiska weyn, 0
keyword-language = luqad, luqadda, beddel luqadda
keyword-agent = qof, shaqaale, turjubaan, la hadal qof
keyword-stop = jooji, joogso, iska jooji
keyword-start = bilow, bilaab, dib u bilow
