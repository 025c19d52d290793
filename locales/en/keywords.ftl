# Words a person can send at any time, separated by commas. Matching ignores case, surrounding
# punctuation, harakat and tatweel, and folds Arabic/Persian letter variants. The English words
# work in every locale anyway; list here the words people of this language would type.

## Commands: the whole message must be one of these words.
keyword-menu = menu, main menu, 0
keyword-language = language, lang
keyword-agent = agent, person, human, interpreter, help me
keyword-stop = stop, unsubscribe
keyword-start = start, subscribe
keyword-privacy = privacy
keyword-delete = delete, delete my data, erase

## Safety words are in safeguarding.txt beside this file (one phrase a line, two tiers).

## Free-text routing: a message that is not a menu number but contains one of these words or
## phrases goes to that topic.
route-resettlement = resettle, resettled, resettlement, third country, unhcr, canada, australia, america, new zealand
route-payments = payment, money, allowance, cash
route-schooling = school, class, classes, course, study
route-return = go home, going home, return home, voluntary return, back to my country
route-health = doctor, hospital, sick, clinic, medicine, housing, house
