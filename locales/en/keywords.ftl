# Words a person can send at any time, separated by commas. Matching ignores case, surrounding
# punctuation, harakat and tatweel, and folds Arabic/Persian letter variants. The English words
# (menu, language, agent, stop, start) work in every locale anyway; list here the words people of
# this language would type.
keyword-menu = menu, main menu, 0
keyword-language = language, lang
keyword-agent = agent, person, human, interpreter, help me
keyword-stop = stop, unsubscribe
keyword-start = start, subscribe
