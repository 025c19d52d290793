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

## Safety: if any of these words or phrases appears anywhere in a message, in any state, the
## person gets the emergency reply and a supervisor gets an urgent ticket. Words of every
## locale are checked for every person. Prefer specific words; a false alarm costs a
## supervisor a minute, a missed one can cost a life.
alert-safeguarding = hit me, hits me, beat me, beats me, beaten, rape, raped, abuse, abused, violence, kill myself, suicide, hurt myself, self harm, want to die, child in danger, touched my child, hurt my child, hits my child, threatened, trafficked

## Free-text routing: a message that is not a menu number but contains one of these words or
## phrases goes to that topic.
route-resettlement = resettle, resettled, resettlement, third country, unhcr, canada, australia, america, new zealand
route-payments = payment, money, allowance, cash
route-schooling = school, class, classes, course, study
route-return = go home, going home, return home, voluntary return, back to my country
route-health = doctor, hospital, sick, clinic, medicine, housing, house
